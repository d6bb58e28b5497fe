# SpecLab chart: Tree verify on this CPU: tree verify forward of large relative to one token
# Data: relative.dat. Redraw from this directory with:
#   gnuplot relative.gp      (writes relative.png, relative.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Tree verify on this CPU: tree verify forward of large relative to one token'."\n".'{/*0.8 '.'binary token tree with ancestor mask, context 128, 2 threads'.'}' font ',15'
set xlabel 'tree nodes verified in one forward, m' font ',12'
set ylabel 'T(m) / T(1)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set logscale x 2
set xrange [0.846745:75.5835]
set xtics ('1' 1, '2' 2, '4' 4, '8' 8, '16' 16, '32' 32, '64' 64)
set offsets 0, 0, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'relative.png'.speclab_output_suffix
plot \
    'relative.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'measured T(m)/T(1)', \
    'relative.dat' index 1 using 1:2 with linespoints ls 2 dt 2 title 'predicted T(m)/T(1) (roofline)', \
    1.5 with lines ls 101 title '1.5: the tree is still nearly free'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'relative.svg'.speclab_output_suffix
replot
unset output
