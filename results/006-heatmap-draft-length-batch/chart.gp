# SpecLab chart: EAGLE-3 chain speedup by draft length and batch size
# Data: chart.dat. Redraw from this directory with:
#   gnuplot chart.gp      (writes chart.png, chart.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'EAGLE-3 chain speedup by draft length and batch size'."\n".'{/*0.8 '.'llama-3.1-8b on h100-sxm, α 0.8, context 512; white = no speedup, orange = slower'.'}' font ',15'
set xlabel 'draft length γ (tokens)' font ',12'
set ylabel 'batch size (sequences)' font ',12'
set cblabel 'speedup over plain decoding (×)' font ',12'
set border lw 1.2 lc rgb '#404040'
unset grid
unset key
set tics nomirror out scale 0.7
set xrange [-0.5:7.5]
set yrange [-0.5:9.5]
set xtics ('1' 0, '2' 1, '3' 2, '4' 3, '5' 4, '6' 5, '7' 6, '8' 7)
set ytics ('1' 0, '2' 1, '4' 2, '8' 3, '16' 4, '32' 5, '64' 6, '128' 7, '256' 8, '512' 9)
set palette defined (0 '#b35806', 0.0359328 '#f1a340', 0.0718655 '#fee0b6', 0.107798 '#f7f7f7', 0.405199 '#d8daeb', 0.702599 '#998ec3', 1 '#542788')
set cbrange [0.7712692777618676:2.8931087518846437]
set cbtics nomirror
set object 1 rectangle from graph 0, graph 0 to graph 1, graph 1 behind fillcolor rgb '#999999' fillstyle pattern 4 noborder
set style fill solid 1.0 border lc rgb 'white'

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'chart.png'.speclab_output_suffix
plot \
    'chart.dat' using 1:2:(0.5):(0.5):3 with boxxyerror lc palette lw 1.5 notitle, \
    'chart.dat' using 1:2:(sprintf('%.2f', $3)):6 with labels tc rgb variable font ',10' notitle

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'chart.svg'.speclab_output_suffix
replot
unset output
