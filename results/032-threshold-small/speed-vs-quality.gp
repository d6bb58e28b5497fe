# SpecLab chart: Threshold generation, small target: speed against quality
# Data: speed-vs-quality.dat. Redraw from this directory with:
#   gnuplot speed-vs-quality.gp      (writes speed-vs-quality.png, speed-vs-quality.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Threshold generation, small target: speed against quality'."\n".'{/*0.8 '.'mtp-parallel heads, up to 3 drafts, 16 prompts × 96 bytes, greedy; verified runs output the greedy text'.'}' font ',15'
set xlabel 'tokens per target forward' font ',12'
set ylabel 'target log-likelihood of the output (nats per token)' font ',12'
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
set bmargin 15
set key at screen 0.5, 0.01 center bottom vertical Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1
set offsets graph 0.02, graph 0.02, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,760
set output 'speed-vs-quality.png'.speclab_output_suffix
plot \
    'speed-vs-quality.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'threshold, per-token, verified (θ 0…0.95)', \
    'speed-vs-quality.dat' index 1 using 1:2 with linespoints ls 2 dt 1 title 'threshold, per-token, unverified (θ 0…0.95)', \
    'speed-vs-quality.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'threshold, cumulative, verified (θ 0…0.95)', \
    'speed-vs-quality.dat' index 3 using 1:2 with linespoints ls 4 dt 1 title 'threshold, cumulative, unverified (θ 0…0.95)', \
    'speed-vs-quality.dat' index 4 using 1:2 with linespoints ls 5 dt 1 title 'prefix beam search over the heads (widths 1, 2, 4, 8)', \
    'speed-vs-quality.dat' index 5 using 1:2 with points ls 6 dt 1 title 'plain decoding, greedy', \
    'speed-vs-quality.dat' index 6 using 1:2 with points ls 7 dt 1 title 'plain decoding, sampled at T = 1'

set terminal svg size 1000,760 dynamic enhanced font "sans,11" background rgb 'white'
set output 'speed-vs-quality.svg'.speclab_output_suffix
replot
unset output
