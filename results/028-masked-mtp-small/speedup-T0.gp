# SpecLab chart: small target, masked-input MTP: measured wall-clock speedup, T = 0
# Data: speedup-T0.dat. Redraw from this directory with:
#   gnuplot speedup-T0.gp      (writes speedup-T0.png, speedup-T0.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'small target, masked-input MTP: measured wall-clock speedup, T = 0'."\n".'{/*0.8 '.'target results/023-train-small, 8 validation prompts × 96 bytes, T = 0 (greedy, V1), 1 thread'.'}' font ',15'
set xlabel 'drafted tokens per cycle (chain length γ or tree nodes)' font ',12'
set ylabel 'speedup over plain decoding (×)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set bmargin 9
set key at screen 0.5, 0.01 center bottom vertical Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1
set offsets graph 0.02, graph 0.02, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,780
set output 'speedup-T0.png'.speclab_output_suffix
plot \
    'speedup-T0.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'masked MTP (k = 4 masks, LoRA r 8), quadratic', \
    'speedup-T0.dat' index 1 using 1:2 with linespoints ls 2 dt 1 title 'masked MTP (k = 4 masks, LoRA r 8), linear', \
    1 with lines ls 101 title 'no speedup'

set terminal svg size 1000,780 dynamic enhanced font "sans,11" background rgb 'white'
set output 'speedup-T0.svg'.speclab_output_suffix
replot
unset output
