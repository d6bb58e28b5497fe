# SpecLab chart: Training loss: draft on gsl
# Data: loss.dat. Redraw from this directory with:
#   gnuplot loss.gp      (writes loss.png, loss.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Training loss: draft on gsl'."\n".'{/*0.8 '.'135456 parameters, batch 16 × 64 bytes, seed 1'.'}' font ',15'
set xlabel 'step' font ',12'
set ylabel 'loss (bits per byte)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set key inside top right Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [0:*]
set offsets 0, 0, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'loss.png'.speclab_output_suffix
plot \
    'loss.dat' index 0 using 1:2 with lines ls 1 dt 1 title 'train (batch)', \
    'loss.dat' index 1 using 1:2 with linespoints ls 2 dt 1 title 'validation'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'loss.svg'.speclab_output_suffix
replot
unset output
