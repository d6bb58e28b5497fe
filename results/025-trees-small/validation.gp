# SpecLab chart: small target, trees vs chains: predicted vs measured decode-phase speedup
# Data: validation.dat. Redraw from this directory with:
#   gnuplot validation.gp      (writes validation.png, validation.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'small target, trees vs chains: predicted vs measured decode-phase speedup'."\n".'{/*0.8 '.'decode phase (prefill excluded); engine calibrated here in the same run, at the measured τ'.'}' font ',15'
set xlabel 'measured speedup (×)' font ',12'
set ylabel 'predicted speedup (×)' font ',12'
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
set style line 10 lc rgb '#D55E00' lw 2 pt 10 ps 1.3
set style line 11 lc rgb '#009E73' lw 2 pt 7 ps 1.3
set style line 12 lc rgb '#CC79A7' lw 2 pt 5 ps 1.3
set style line 13 lc rgb '#E69F00' lw 2 pt 9 ps 1.3
set style line 14 lc rgb '#56B4E9' lw 2 pt 11 ps 1.3
set style line 15 lc rgb '#000000' lw 2 pt 13 ps 1.3
set style line 16 lc rgb '#F0E442' lw 2 pt 15 ps 1.3
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set bmargin 28
set key at screen 0.5, 0.01 center bottom vertical Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1
set offsets graph 0.02, graph 0.02, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'validation.png'.speclab_output_suffix
plot \
    'validation.dat' index 0 using 1:2 with points ls 1 dt 1 title 'draft model, chain, T = 0', \
    'validation.dat' index 1 using 1:2 with points ls 2 dt 1 title 'draft model, chain, T = 1', \
    'validation.dat' index 2 using 1:2 with points ls 3 dt 1 title 'EAGLE drafter, chain, T = 0', \
    'validation.dat' index 3 using 1:2 with points ls 4 dt 1 title 'EAGLE drafter, chain, T = 1', \
    'validation.dat' index 4 using 1:2 with points ls 5 dt 1 title 'EAGLE-1, 10-node tree, T = 0', \
    'validation.dat' index 5 using 1:2 with points ls 6 dt 1 title 'EAGLE-1, 10-node tree, T = 1', \
    'validation.dat' index 6 using 1:2 with points ls 7 dt 1 title 'EAGLE-1, 25-node tree, T = 0', \
    'validation.dat' index 7 using 1:2 with points ls 8 dt 1 title 'EAGLE-1, 25-node tree, T = 1', \
    'validation.dat' index 8 using 1:2 with points ls 9 dt 1 title 'EAGLE-2, dynamic (K 3, depth 4), T = 0', \
    'validation.dat' index 9 using 1:2 with points ls 10 dt 1 title 'EAGLE-2, dynamic (K 3, depth 4), T = 1', \
    'validation.dat' index 10 using 1:2 with points ls 11 dt 1 title 'Medusa-1 (4 heads), sparse tree, T = 0', \
    'validation.dat' index 11 using 1:2 with points ls 12 dt 1 title 'Medusa-1 (4 heads), sparse tree, T = 1', \
    'validation.dat' index 12 using 1:2 with points ls 13 dt 1 title 'Medusa-1, typical acceptance (lossy), T = 0', \
    'validation.dat' index 13 using 1:2 with points ls 14 dt 1 title 'Medusa-1, typical acceptance (lossy), T = 1', \
    'validation.dat' index 14 using 1:2 with points ls 15 dt 1 title 'Medusa-2 (4 heads, joint fine-tuning), T = 0', \
    'validation.dat' index 15 using 1:2 with points ls 16 dt 1 title 'Medusa-2 (4 heads, joint fine-tuning), T = 1', \
    'validation.dat' index 16 using 1:2 with lines ls 101 title 'predicted = measured'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'validation.svg'.speclab_output_suffix
replot
unset output
