# SpecLab chart: Leviathan Table 3, other pairs, T = 1: Theorem 3.8 speedup vs γ
# Data: curves-other-t1.dat. Redraw from this directory with:
#   gnuplot curves-other-t1.gp      (writes curves-other-t1.png, curves-other-t1.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Leviathan Table 3, other pairs, T = 1: Theorem 3.8 speedup vs γ'."\n".'{/*0.8 '.'GPT-like: roofline c on tpu-v4 (t5x); LaMDA, n-gram drafts: c = 0, dashed (upper bound: no shapes published)'.'}' font ',15'
set xlabel 'draft length γ (tokens per cycle)' font ',12'
set ylabel 'expected walltime speedup (×), Theorem 3.8' font ',12'
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
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [1:12]
set yrange [0.5:6]
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'curves-other-t1.png'.speclab_output_suffix
plot \
    'curves-other-t1.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'GPT-like 97M / 6M, α 0.89', \
    'curves-other-t1.dat' index 1 using 1:2 with linespoints ls 2 dt 2 title 'LaMDA 137B / 100M, α 0.57, c = 0', \
    'curves-other-t1.dat' index 2 using 1:2 with linespoints ls 3 dt 2 title 'LaMDA 137B / 2B, α 0.71, c = 0', \
    'curves-other-t1.dat' index 3 using 1:2 with linespoints ls 4 dt 2 title 'LaMDA 137B / 8B, α 0.74, c = 0', \
    'curves-other-t1.dat' index 4 using 1:2 with linespoints ls 5 dt 2 title 'T5-XXL EnDe / bigram, α 0.19, c = 0', \
    'curves-other-t1.dat' index 5 using 1:2 with linespoints ls 6 dt 2 title 'T5-XXL CNNDM / bigram, α 0.16, c = 0', \
    'curves-other-t1.dat' index 6 using 1:2 with linespoints ls 7 dt 2 title 'T5-XXL EnDe / unigram, α 0.07, c = 0', \
    1 with lines ls 101 title 'no speedup'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'curves-other-t1.svg'.speclab_output_suffix
replot
unset output
