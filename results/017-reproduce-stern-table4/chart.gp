# SpecLab chart: Stern et al. 2018, Table 4: predicted vs published speedup (blockwise, k = 2…10)
# Data: chart.dat. Redraw from this directory with:
#   gnuplot chart.gp      (writes chart.png, chart.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Stern et al. 2018, Table 4: predicted vs published speedup (blockwise, k = 2…10)'."\n".'{/*0.8 '.'transformer\_base, k − 1 extra heads, τ = k̂ of Table 1 ''Both'' (dev); one P100 (fp32), eager runtime, batch 1'.'}' font ',15'
set xlabel 'published speedup (×, measured by the authors)' font ',12'
set ylabel 'predicted speedup (×, SpecLab)' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 101 lc rgb '#4d4d4d' lw 1.5 dt 2
set key inside top left Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [1.25:4]
set yrange [1.25:4]
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'chart.png'.speclab_output_suffix
plot \
    'chart.dat' index 0 using 1:2 with points ls 1 dt 1 title 'newstest2014, distilled + fine-tuned', \
    'chart.dat' index 1 using 1:2 with lines ls 101 title 'predicted = published'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'chart.svg'.speclab_output_suffix
replot
unset output
