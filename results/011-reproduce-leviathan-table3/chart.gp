# SpecLab chart: Leviathan Table 2 points: Theorem 3.8 with roofline c vs measured speedup
# Data: chart.dat. Redraw from this directory with:
#   gnuplot chart.gp      (writes chart.png, chart.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Leviathan Table 2 points: Theorem 3.8 with roofline c vs measured speedup'."\n".'{/*0.8 '.'T5-XXL on tpu-v4 (t5x runtime), batch 1, context 128, source 128; α and γ from Table 2'.'}' font ',15'
set xlabel 'published speedup (×, measured by the authors)' font ',12'
set ylabel 'predicted speedup (×, SpecLab)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [1.25:3.75]
set yrange [1.25:3.75]
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'chart.png'.speclab_output_suffix
plot \
    'chart.dat' index 0 using 1:2 with points ls 1 dt 1 title 'T=0', \
    'chart.dat' index 1 using 1:2 with points ls 2 dt 1 title 'T=1', \
    'chart.dat' index 2 using 1:2 with lines ls 101 title 'predicted = published'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'chart.svg'.speclab_output_suffix
replot
unset output
