# SpecLab chart: Kernel cross-check: step-time error over batch
# Data: error-vs-batch.dat. Redraw from this directory with:
#   gnuplot error-vs-batch.gp      (writes error-vs-batch.png, error-vs-batch.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Kernel cross-check: step-time error over batch'."\n".'{/*0.8 '.'context 2048; (SpecLab − aiconfigurator) / aiconfigurator'.'}' font ',15'
set xlabel 'batch (sequences)' font ',12'
set ylabel 'relative error (%)' font ',12'
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
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set style line 102 lc rgb '#4d4d4d' lw 1.5 dt 3
set key outside right top Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set logscale x 2
set xrange [0.779165:657.114]
set xtics ('1' 1, '2' 2, '4' 4, '8' 8, '16' 16, '32' 32, '64' 64, '128' 128, '256' 256, '512' 512)
set offsets 0, 0, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1300,700
set output 'error-vs-batch.png'.speclab_output_suffix
plot \
    'error-vs-batch.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'h100\_sxm sglang Llama-3.1-8B TP1', \
    'error-vs-batch.dat' index 1 using 1:2 with linespoints ls 2 dt 1 title 'h100\_sxm sglang Llama-3.1-70B TP4', \
    'error-vs-batch.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'h100\_sxm sglang Llama-3.1-70B TP8', \
    'error-vs-batch.dat' index 3 using 1:2 with linespoints ls 4 dt 1 title 'h100\_sxm sglang Mixtral-8x7B TP2', \
    'error-vs-batch.dat' index 4 using 1:2 with linespoints ls 5 dt 1 title 'h200\_sxm sglang Llama-3.1-8B TP1', \
    'error-vs-batch.dat' index 5 using 1:2 with linespoints ls 6 dt 1 title 'h200\_sxm sglang Llama-3.1-70B TP4', \
    'error-vs-batch.dat' index 6 using 1:2 with linespoints ls 7 dt 1 title 'h200\_sxm sglang Llama-3.1-70B TP8', \
    'error-vs-batch.dat' index 7 using 1:2 with linespoints ls 8 dt 1 title 'h200\_sxm sglang Mixtral-8x7B TP1', \
    'error-vs-batch.dat' index 8 using 1:2 with linespoints ls 9 dt 1 title 'h200\_sxm sglang Mixtral-8x7B TP2', \
    'error-vs-batch.dat' index 9 using 1:2 with linespoints ls 10 dt 1 title 'h200\_sxm sglang DeepSeek-V3 TP8', \
    'error-vs-batch.dat' index 10 using 1:2 with linespoints ls 11 dt 1 title 'h200\_sxm sglang DeepSeek-V3 TP8 EP8', \
    'error-vs-batch.dat' index 11 using 1:2 with linespoints ls 12 dt 1 title 'h100\_sxm vllm Llama-3.1-8B TP1', \
    'error-vs-batch.dat' index 12 using 1:2 with linespoints ls 13 dt 1 title 'h100\_sxm trtllm Llama-3.1-8B TP1', \
    10 with lines ls 101 title '±10%', \
    -10 with lines ls 102 notitle

set terminal svg size 1300,700 dynamic enhanced font "sans,11" background rgb 'white'
set output 'error-vs-batch.svg'.speclab_output_suffix
replot
unset output
