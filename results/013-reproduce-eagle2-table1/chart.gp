# SpecLab chart: EAGLE-2 Table 1: predicted vs published speedup (batch 1, from the published τ)
# Data: chart.dat. Redraw from this directory with:
#   gnuplot chart.gp      (writes chart.png, chart.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'EAGLE-2 Table 1: predicted vs published speedup (batch 1, from the published τ)'."\n".'{/*0.8 '.'HF eager on RTX 3090 (13B: 2 GPUs in sequence); EAGLE-2 tree 60 (7B) / 50 (13B) tokens, depth 6, top-10'.'}' font ',15'
set xlabel 'published speedup (×, measured by the authors)' font ',12'
set ylabel 'predicted speedup (×, SpecLab)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set style line 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.3
set style line 5 lc rgb '#E69F00' lw 2 pt 13 ps 1.3
set style line 6 lc rgb '#56B4E9' lw 2 pt 15 ps 1.3
set style line 7 lc rgb '#000000' lw 2 pt 6 ps 1.3
set style line 8 lc rgb '#F0E442' lw 2 pt 4 ps 1.3
set style line 9 lc rgb '#0072B2' lw 2 pt 8 ps 1.3
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [1:5.5]
set yrange [1:5.5]
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'chart.png'.speclab_output_suffix
plot \
    'chart.dat' index 0 using 1:2 with points ls 1 dt 1 title 'SpS, T=0', \
    'chart.dat' index 1 using 1:2 with points ls 2 dt 1 title 'PLD, T=0', \
    'chart.dat' index 2 using 1:2 with points ls 3 dt 1 title 'EAGLE, T=0', \
    'chart.dat' index 3 using 1:2 with points ls 4 dt 1 title 'EAGLE-2, T=0', \
    'chart.dat' index 4 using 1:2 with points ls 5 dt 1 title 'Lookahead, T=0', \
    'chart.dat' index 5 using 1:2 with points ls 6 dt 1 title 'Hydra, T=0', \
    'chart.dat' index 6 using 1:2 with points ls 7 dt 1 title 'SpS, T=1', \
    'chart.dat' index 7 using 1:2 with points ls 8 dt 1 title 'EAGLE, T=1', \
    'chart.dat' index 8 using 1:2 with points ls 9 dt 1 title 'EAGLE-2, T=1', \
    'chart.dat' index 9 using 1:2 with lines ls 101 title 'predicted = published'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'chart.svg'.speclab_output_suffix
replot
unset output
