# SpecLab chart: Accepted drafts per cycle under i.i.d. acceptance (γ = 8)
# Data: distribution.dat. Redraw from this directory with:
#   gnuplot distribution.gp      (writes distribution.png, distribution.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Accepted drafts per cycle under i.i.d. acceptance (γ = 8)'."\n".'{/*0.8 '.'P(a = j): geometric up to γ, the rest piled on a = γ (all drafts accepted)'.'}' font ',15'
set xlabel 'accepted drafts a' font ',12'
set ylabel 'probability' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set style line 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.3
set key inside top right Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [-0.25:8.25]
set yrange [0:*]
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'distribution.png'.speclab_output_suffix
plot \
    'distribution.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'i.i.d. α = 0.5 (τ = 2.00)', \
    'distribution.dat' index 1 using 1:2 with linespoints ls 2 dt 1 title 'i.i.d. α = 0.7 (τ = 3.20)', \
    'distribution.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'i.i.d. α = 0.8 (τ = 4.33)', \
    'distribution.dat' index 3 using 1:2 with linespoints ls 4 dt 1 title 'i.i.d. α = 0.9 (τ = 6.13)'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'distribution.svg'.speclab_output_suffix
replot
unset output
