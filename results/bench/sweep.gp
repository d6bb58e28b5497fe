# SpecLab chart: Benchmark sweep: 50,000 points (sd, llama-3.1-8b / llama-3.2-1b, h100-sxm)
# Data: sweep.dat. Redraw from this directory with:
#   gnuplot sweep.gp      (writes sweep.png)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Benchmark sweep: 50,000 points (sd, llama-3.1-8b / llama-3.2-1b, h100-sxm)'."\n".'{/*0.8 '.'10 of 100 lines shown'.'}' font ',15'
set xlabel 'batch size (sequences)' font ',12'
set ylabel 'speedup over plain decoding (×)' font ',12'
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
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside top right Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set offsets graph 0.02, graph 0.02, graph 0.04, graph 0.04

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'sweep.png'.speclab_output_suffix
plot \
    'sweep.dat' index 0 using 1:2 with linespoints ls 1 dt 1 pi 20 title 'draft-length 1', \
    'sweep.dat' index 1 using 1:2 with linespoints ls 2 dt 1 pi 20 title 'draft-length 12', \
    'sweep.dat' index 2 using 1:2 with linespoints ls 3 dt 1 pi 20 title 'draft-length 23', \
    'sweep.dat' index 3 using 1:2 with linespoints ls 4 dt 1 pi 20 title 'draft-length 34', \
    'sweep.dat' index 4 using 1:2 with linespoints ls 5 dt 1 pi 20 title 'draft-length 45', \
    'sweep.dat' index 5 using 1:2 with linespoints ls 6 dt 1 pi 19 title 'draft-length 56', \
    'sweep.dat' index 6 using 1:2 with linespoints ls 7 dt 1 pi 19 title 'draft-length 67', \
    'sweep.dat' index 7 using 1:2 with linespoints ls 8 dt 1 pi 19 title 'draft-length 78', \
    'sweep.dat' index 8 using 1:2 with linespoints ls 9 dt 1 pi 19 title 'draft-length 89', \
    'sweep.dat' index 9 using 1:2 with linespoints ls 10 dt 1 pi 19 title 'draft-length 100', \
    1 with lines ls 101 title 'no speedup'
unset output
