# SpecLab chart: Expected tokens per verify τ vs draft-tree size
# Data: chart.dat. Redraw from this directory with:
#   gnuplot chart.gp      (writes chart.png, chart.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Expected tokens per verify τ vs draft-tree size'."\n".'{/*0.8 '.'top-1 rates: EAGLE-1 Vicuna-7B n-α, extended to depth 8; lower ranks share the rest geometrically (ratio ρ)'.'}' font ',15'
set xlabel 'draft nodes verified (root excluded)' font ',12'
set ylabel 'τ, expected tokens per target forward' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set style line 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.3
set style line 5 lc rgb '#E69F00' lw 2 pt 13 ps 1.3
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set logscale x 2
set xrange [0.823591:155.417]
set xtics ('1' 1, '2' 2, '4' 4, '8' 8, '16' 16, '32' 32, '64' 64, '128' 128)
set offsets 0, 0, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'chart.png'.speclab_output_suffix
plot \
    'chart.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'chain (top-1 only)', \
    'chart.dat' index 1 using 1:2 with lines ls 2 dt 1 title 'best tree, rank decay ρ = 0.3', \
    'chart.dat' index 2 using 1:2 with lines ls 3 dt 1 title 'best tree, rank decay ρ = 0.5', \
    'chart.dat' index 3 using 1:2 with lines ls 4 dt 1 title 'best tree, rank decay ρ = 0.7', \
    'chart.dat' index 4 using 1:2 with points ls 5 dt 1 title 'EAGLE-1 static 25-node tree (one per ρ)'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'chart.svg'.speclab_output_suffix
replot
unset output
