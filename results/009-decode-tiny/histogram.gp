# SpecLab chart: tiny target on GSL: accepted drafts per round at γ = 4, T = 0
# Data: histogram.dat. Redraw from this directory with:
#   gnuplot histogram.gp      (writes histogram.png, histogram.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'tiny target on GSL: accepted drafts per round at γ = 4, T = 0'."\n".'{/*0.8 '.'measured distribution vs the i.i.d. acceptance model with the same τ'.'}' font ',15'
set xlabel 'accepted drafts a' font ',12'
set ylabel 'fraction of rounds' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set style line 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.3
set style line 5 lc rgb '#E69F00' lw 2 pt 13 ps 1.3
set style line 6 lc rgb '#56B4E9' lw 2 pt 15 ps 1.3
set key inside top right Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [-0.25:4.25]
set offsets 0, 0, graph 0.04, graph 0.04

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'histogram.png'.speclab_output_suffix
plot \
    'histogram.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'prompt lookup (n-gram): measured', \
    'histogram.dat' index 1 using 1:2 with linespoints ls 2 dt 2 title 'prompt lookup (n-gram): i.i.d. model, same τ', \
    'histogram.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'draft model (draft preset, 600 steps): measured', \
    'histogram.dat' index 3 using 1:2 with linespoints ls 4 dt 2 title 'draft model (draft preset, 600 steps): i.i.d. model, same τ', \
    'histogram.dat' index 4 using 1:2 with linespoints ls 5 dt 1 title 'blockwise heads (4, frozen trunk, 400 steps): measured', \
    'histogram.dat' index 5 using 1:2 with linespoints ls 6 dt 2 title 'blockwise heads (4, frozen trunk, 400 steps): i.i.d. model, same τ'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'histogram.svg'.speclab_output_suffix
replot
unset output
