# SpecLab chart: Kernel cross-check: verify cost of k tokens per sequence, Llama-3.1-8B on h200
# Data: verify-cost-h200.dat. Redraw from this directory with:
#   gnuplot verify-cost-h200.gp      (writes verify-cost-h200.png, verify-cost-h200.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Kernel cross-check: verify cost of k tokens per sequence, Llama-3.1-8B on h200'."\n".'{/*0.8 '.'T(k, b) / T(1, b), context 2048: measured-kernel engine, today''s roofline, aiconfigurator'.'}' font ',15'
set xlabel 'batch (sequences)' font ',12'
set ylabel 'T(k, b) / T(1, b)' font ',12'
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
set key outside right top Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set logscale x 2
set xrange [0.80107:319.573]
set xtics ('1' 1, '2' 2, '4' 4, '8' 8, '16' 16, '32' 32, '64' 64, '128' 128, '256' 256)
set offsets 0, 0, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1300,700
set output 'verify-cost-h200.png'.speclab_output_suffix
plot \
    'verify-cost-h200.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'k = 2: measured kernels', \
    'verify-cost-h200.dat' index 1 using 1:2 with linespoints ls 2 dt 2 title 'k = 2: roofline', \
    'verify-cost-h200.dat' index 2 using 1:2 with points ls 3 dt 1 title 'k = 2: aiconfigurator', \
    'verify-cost-h200.dat' index 3 using 1:2 with linespoints ls 4 dt 1 title 'k = 4: measured kernels', \
    'verify-cost-h200.dat' index 4 using 1:2 with linespoints ls 5 dt 2 title 'k = 4: roofline', \
    'verify-cost-h200.dat' index 5 using 1:2 with points ls 6 dt 1 title 'k = 4: aiconfigurator', \
    'verify-cost-h200.dat' index 6 using 1:2 with linespoints ls 7 dt 1 title 'k = 8: measured kernels', \
    'verify-cost-h200.dat' index 7 using 1:2 with linespoints ls 8 dt 2 title 'k = 8: roofline', \
    'verify-cost-h200.dat' index 8 using 1:2 with points ls 9 dt 1 title 'k = 8: aiconfigurator'

set terminal svg size 1300,700 dynamic enhanced font "sans,11" background rgb 'white'
set output 'verify-cost-h200.svg'.speclab_output_suffix
replot
unset output
