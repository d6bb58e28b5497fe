# SpecLab chart: Predicted vs measured on this machine
# Data: predicted-vs-measured.dat. Redraw from this directory with:
#   gnuplot predicted-vs-measured.gp      (writes predicted-vs-measured.png, predicted-vs-measured.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Predicted vs measured on this machine'."\n".'{/*0.8 '.'random weights, 1 thread; engine: cpu-local; each point relative to the measured value'.'}' font ',15'
set xlabel 'measured (relative to the group''s first measurement)' font ',12'
set ylabel 'predicted (same scale)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set style line 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.3
set style line 5 lc rgb '#E69F00' lw 2 pt 13 ps 1.3
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set logscale x 2
set xrange [0.221998:41.1824]
set xtics ('0.25' 0.25, '0.5' 0.5, '1' 1, '2' 2, '4' 4, '8' 8, '16' 16, '32' 32)
set logscale y 2
set yrange [0.225923:35.6206]
set ytics ('0.25' 0.25, '0.5' 0.5, '1' 1, '2' 2, '4' 4, '8' 8, '16' 16, '32' 32)
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'predicted-vs-measured.png'.speclab_output_suffix
plot \
    'predicted-vs-measured.dat' index 0 using 1:2 with points ls 1 dt 1 title 'step time T(k), small', \
    'predicted-vs-measured.dat' index 1 using 1:2 with points ls 2 dt 1 title 'step time T(k), large', \
    'predicted-vs-measured.dat' index 2 using 1:2 with points ls 3 dt 1 title 'step time T(k), large (batch, context)', \
    'predicted-vs-measured.dat' index 3 using 1:2 with points ls 4 dt 1 title 'τ, oracle drafter', \
    'predicted-vs-measured.dat' index 4 using 1:2 with points ls 5 dt 1 title 'speedup, oracle drafter', \
    'predicted-vs-measured.dat' index 5 using 1:2 with lines ls 101 title 'predicted = measured'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'predicted-vs-measured.svg'.speclab_output_suffix
replot
unset output
