# SpecLab chart: Forward over k new tokens relative to one: measured vs roofline
# Data: step-time.dat. Redraw from this directory with:
#   gnuplot step-time.gp      (writes step-time.png, step-time.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Forward over k new tokens relative to one: measured vs roofline'."\n".'{/*0.8 '.'random weights, 1 thread; engine: cpu-local, context 64'.'}' font ',15'
set xlabel 'new tokens in one forward, k' font ',12'
set ylabel 'T(k) / T(1)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set style line 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.3
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set logscale x 2
set xrange [0.823591:155.417]
set xtics ('1' 1, '2' 2, '4' 4, '8' 8, '16' 16, '32' 32, '64' 64, '128' 128)
set yrange [0:*]
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'step-time.png'.speclab_output_suffix
plot \
    'step-time.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'small (12.3 MB in cache): measured', \
    'step-time.dat' index 1 using 1:2 with linespoints ls 2 dt 2 title 'small: predicted (roofline)', \
    'step-time.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'large (303.6 MB beyond cache): measured', \
    'step-time.dat' index 3 using 1:2 with linespoints ls 4 dt 2 title 'large: predicted (roofline)'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'step-time.svg'.speclab_output_suffix
replot
unset output
