# SpecLab chart: small target, masked-input MTP: accepted drafts per round, masked MTP (k = 4 masks, LoRA r 8), linear
# Data: histogram-02.dat. Redraw from this directory with:
#   gnuplot histogram-02.gp      (writes histogram-02.png, histogram-02.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'small target, masked-input MTP: accepted drafts per round, masked MTP (k = 4 masks, LoRA r 8), linear'."\n".'{/*0.8 '.'deepest draft 4, T = 0; models fitted on other prompts of the validation split'.'}' font ',15'
set xlabel 'accepted drafts a' font ',12'
set ylabel 'fraction of rounds' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set key inside top right Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [-0.25:4.25]
set yrange [0:*]
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'histogram-02.png'.speclab_output_suffix
plot \
    'histogram-02.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'measured (8 prompts)', \
    'histogram-02.dat' index 1 using 1:2 with linespoints ls 2 dt 2 title 'i.i.d. model fitted on the calibration prompts', \
    'histogram-02.dat' index 2 using 1:2 with points ls 3 dt 1 title 'per-position model fitted on the calibration prompts'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'histogram-02.svg'.speclab_output_suffix
replot
unset output
