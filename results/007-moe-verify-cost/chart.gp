# SpecLab chart: Forward time over k tokens relative to one token, 8 × H200 (batch 1, context 1024)
# Data: chart.dat. Redraw from this directory with:
#   gnuplot chart.gp      (writes chart.png, chart.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Forward time over k tokens relative to one token, 8 × H200 (batch 1, context 1024)'."\n".'{/*0.8 '.'MoE: k tokens read the experts they touch, E·(1 − (1 − top-k/E)\^k) under uniform routing'.'}' font ',15'
set xlabel 'new tokens per sequence in one forward, k' font ',12'
set ylabel 'T(k) / T(1)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set logscale x 2
set xrange [0.757858:1351.18]
set xtics ('1' 1, '2' 2, '4' 4, '8' 8, '16' 16, '32' 32, '64' 64, '128' 128, '256' 256, '512' 512, '1024' 1024)
set logscale y 2
set yrange [0.925404:7.50564]
set ytics ('1' 1, '2' 2, '4' 4)
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'chart.png'.speclab_output_suffix
plot \
    'chart.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'llama-3.1-70b', \
    'chart.dat' index 1 using 1:2 with linespoints ls 2 dt 1 title 'mixtral-8x7b', \
    'chart.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'deepseek-v3', \
    1 with lines ls 101 title 'free verification'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'chart.svg'.speclab_output_suffix
replot
unset output
