# SpecLab chart: Kernel cross-check: decode step, engine vs aiconfigurator
# Data: scatter.dat. Redraw from this directory with:
#   gnuplot scatter.gp      (writes scatter.png, scatter.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Kernel cross-check: decode step, engine vs aiconfigurator'."\n".'{/*0.8 '.'batch 1–512, context 128–32k; measured-kernel tables of the same GPU and framework'.'}' font ',15'
set xlabel 'aiconfigurator''s step (ms)' font ',12'
set ylabel 'SpecLab''s step (ms)' font ',12'
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
set key outside right top Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set logscale x 10
set xrange [4.07894:196.246]
set xtics ('5' 5, '10' 10, '20' 20, '50' 50, '100' 100)
set logscale y 10
set yrange [4.32595:196.753]
set ytics ('5' 5, '10' 10, '20' 20, '50' 50, '100' 100)
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1300,700
set output 'scatter.png'.speclab_output_suffix
plot \
    'scatter.dat' index 0 using 1:2 with points ls 1 dt 1 title 'h100\_sxm sglang Llama-3.1-8B TP1', \
    'scatter.dat' index 1 using 1:2 with points ls 2 dt 1 title 'h100\_sxm sglang Llama-3.1-70B TP4', \
    'scatter.dat' index 2 using 1:2 with points ls 3 dt 1 title 'h100\_sxm sglang Llama-3.1-70B TP8', \
    'scatter.dat' index 3 using 1:2 with points ls 4 dt 1 title 'h100\_sxm sglang Mixtral-8x7B TP2', \
    'scatter.dat' index 4 using 1:2 with points ls 5 dt 1 title 'h200\_sxm sglang Llama-3.1-8B TP1', \
    'scatter.dat' index 5 using 1:2 with points ls 6 dt 1 title 'h200\_sxm sglang Llama-3.1-70B TP4', \
    'scatter.dat' index 6 using 1:2 with points ls 7 dt 1 title 'h200\_sxm sglang Llama-3.1-70B TP8', \
    'scatter.dat' index 7 using 1:2 with points ls 8 dt 1 title 'h200\_sxm sglang Mixtral-8x7B TP1', \
    'scatter.dat' index 8 using 1:2 with points ls 9 dt 1 title 'h200\_sxm sglang Mixtral-8x7B TP2', \
    'scatter.dat' index 9 using 1:2 with points ls 10 dt 1 title 'h200\_sxm sglang DeepSeek-V3 TP8', \
    'scatter.dat' index 10 using 1:2 with points ls 11 dt 1 title 'h200\_sxm sglang DeepSeek-V3 TP8 EP8', \
    'scatter.dat' index 11 using 1:2 with points ls 12 dt 1 title 'h100\_sxm vllm Llama-3.1-8B TP1', \
    'scatter.dat' index 12 using 1:2 with points ls 13 dt 1 title 'h100\_sxm trtllm Llama-3.1-8B TP1', \
    'scatter.dat' index 13 using 1:2 with lines ls 101 title 'equal'

set terminal svg size 1300,700 dynamic enhanced font "sans,11" background rgb 'white'
set output 'scatter.svg'.speclab_output_suffix
replot
unset output
