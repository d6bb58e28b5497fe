# SpecLab chart: Speedup vs context length, llama-3.1-8b on h100-sxm, EAGLE-3 α 0.8 (best γ ≤ 8)
# Data: chart.dat. Redraw from this directory with:
#   gnuplot chart.gp      (writes chart.png, chart.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Speedup vs context length, llama-3.1-8b on h100-sxm, EAGLE-3 α 0.8 (best γ ≤ 8)'."\n".'{/*0.8 '.'the KV cache is read once per sequence and shared by the γ + 1 verified tokens; gaps: does not fit'.'}' font ',15'
set xlabel 'context length (tokens)' font ',12'
set ylabel 'speedup over plain decoding (×)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set style line 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.3
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside bottom right Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set logscale x 2
set xrange [102.537:40905.3]
set xtics ('128' 128, '256' 256, '512' 512, '1024' 1024, '2048' 2048, '4096' 4096, '8192' 8192, '16384' 16384, '32768' 32768)
set offsets 0, 0, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'chart.png'.speclab_output_suffix
plot \
    'chart.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'batch 1', \
    'chart.dat' index 1 using 1:2 with linespoints ls 2 dt 1 title 'batch 8', \
    'chart.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'batch 32', \
    'chart.dat' index 3 using 1:2 with linespoints ls 4 dt 1 title 'batch 128', \
    1 with lines ls 101 title 'no speedup'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'chart.svg'.speclab_output_suffix
replot
unset output
