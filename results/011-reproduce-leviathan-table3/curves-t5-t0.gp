# SpecLab chart: Leviathan Table 3, T5-XXL pairs, T = 0: Theorem 3.8 speedup vs γ
# Data: curves-t5-t0.dat. Redraw from this directory with:
#   gnuplot curves-t5-t0.gp      (writes curves-t5-t0.png, curves-t5-t0.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Leviathan Table 3, T5-XXL pairs, T = 0: Theorem 3.8 speedup vs γ'."\n".'{/*0.8 '.'α from Table 3; roofline c on tpu-v4 (t5x): 0.0198 / 0.0413 / 0.1074 for small / base / large'.'}' font ',15'
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
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [1:12]
set yrange [0.5:5]
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'curves-t5-t0.png'.speclab_output_suffix
plot \
    'curves-t5-t0.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'T5-XXL EnDe / t5-small, α 0.75', \
    'curves-t5-t0.dat' index 1 using 1:2 with linespoints ls 2 dt 1 title 'T5-XXL EnDe / t5-base, α 0.8', \
    'curves-t5-t0.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'T5-XXL EnDe / t5-large, α 0.82', \
    'curves-t5-t0.dat' index 3 using 1:2 with linespoints ls 4 dt 1 title 'T5-XXL CNNDM / t5-small, α 0.65', \
    'curves-t5-t0.dat' index 4 using 1:2 with linespoints ls 5 dt 1 title 'T5-XXL CNNDM / t5-base, α 0.73', \
    'curves-t5-t0.dat' index 5 using 1:2 with linespoints ls 6 dt 1 title 'T5-XXL CNNDM / t5-large, α 0.74', \
    1 with lines ls 101 title 'no speedup'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'curves-t5-t0.svg'.speclab_output_suffix
replot
unset output
