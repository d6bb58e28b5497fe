# SpecLab chart: small target, trees vs chains: accepted drafts per round at each method's longest draft, T = 0
# Data: histogram.dat. Redraw from this directory with:
#   gnuplot histogram.gp      (writes histogram.png, histogram.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'small target, trees vs chains: accepted drafts per round at each method''s longest draft, T = 0'."\n".'{/*0.8 '.'measured (even prompts) vs acceptance models fitted on other prompts (odd ones)'.'}' font ',15'
set xlabel 'accepted drafts a' font ',12'
set ylabel 'fraction of rounds' font ',12'
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
set style line 14 lc rgb '#56B4E9' lw 2 pt 11 ps 1.3
set style line 15 lc rgb '#000000' lw 2 pt 13 ps 1.3
set style line 16 lc rgb '#F0E442' lw 2 pt 15 ps 1.3
set style line 17 lc rgb '#0072B2' lw 2 pt 6 ps 1.3
set style line 18 lc rgb '#D55E00' lw 2 pt 4 ps 1.3
set style line 19 lc rgb '#009E73' lw 2 pt 8 ps 1.3
set style line 20 lc rgb '#CC79A7' lw 2 pt 10 ps 1.3
set style line 21 lc rgb '#E69F00' lw 2 pt 7 ps 1.3
set style line 22 lc rgb '#56B4E9' lw 2 pt 5 ps 1.3
set style line 23 lc rgb '#000000' lw 2 pt 9 ps 1.3
set style line 24 lc rgb '#F0E442' lw 2 pt 11 ps 1.3
set key inside top right Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1 height 0.6
set xrange [-0.25:25.25]
set offsets 0, 0, graph 0.04, graph 0.04

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'histogram.png'.speclab_output_suffix
plot \
    'histogram.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'draft model, chain (γ = 5): measured', \
    'histogram.dat' index 1 using 1:2 with linespoints ls 2 dt 2 title 'i.i.d. model (calibration split)', \
    'histogram.dat' index 2 using 1:2 with points ls 3 dt 1 title 'per-position model (calibration split)', \
    'histogram.dat' index 3 using 1:2 with linespoints ls 4 dt 1 title 'EAGLE drafter, chain (γ = 5): measured', \
    'histogram.dat' index 4 using 1:2 with linespoints ls 5 dt 2 title 'i.i.d. model (calibration split)', \
    'histogram.dat' index 5 using 1:2 with points ls 6 dt 1 title 'per-position model (calibration split)', \
    'histogram.dat' index 6 using 1:2 with linespoints ls 7 dt 1 title 'EAGLE-1, 10-node tree (γ = 4): measured', \
    'histogram.dat' index 7 using 1:2 with linespoints ls 8 dt 2 title 'i.i.d. model (calibration split)', \
    'histogram.dat' index 8 using 1:2 with points ls 9 dt 1 title 'per-position model (calibration split)', \
    'histogram.dat' index 9 using 1:2 with linespoints ls 10 dt 1 title 'EAGLE-1, 25-node tree (γ = 5): measured', \
    'histogram.dat' index 10 using 1:2 with linespoints ls 11 dt 2 title 'i.i.d. model (calibration split)', \
    'histogram.dat' index 11 using 1:2 with points ls 12 dt 1 title 'per-position model (calibration split)', \
    'histogram.dat' index 12 using 1:2 with linespoints ls 13 dt 1 title 'EAGLE-2, dynamic (K 3, depth 4) (γ = 5): measured', \
    'histogram.dat' index 13 using 1:2 with linespoints ls 14 dt 2 title 'i.i.d. model (calibration split)', \
    'histogram.dat' index 14 using 1:2 with points ls 15 dt 1 title 'per-position model (calibration split)', \
    'histogram.dat' index 15 using 1:2 with linespoints ls 16 dt 1 title 'Medusa-1 (4 heads), sparse tree (γ = 4): measured', \
    'histogram.dat' index 16 using 1:2 with linespoints ls 17 dt 2 title 'i.i.d. model (calibration split)', \
    'histogram.dat' index 17 using 1:2 with points ls 18 dt 1 title 'per-position model (calibration split)', \
    'histogram.dat' index 18 using 1:2 with linespoints ls 19 dt 1 title 'Medusa-1, typical acceptance (lossy) (γ = 4): measured', \
    'histogram.dat' index 19 using 1:2 with linespoints ls 20 dt 2 title 'i.i.d. model (calibration split)', \
    'histogram.dat' index 20 using 1:2 with points ls 21 dt 1 title 'per-position model (calibration split)', \
    'histogram.dat' index 21 using 1:2 with linespoints ls 22 dt 1 title 'Medusa-2 (4 heads, joint fine-tuning) (γ = 4): measured', \
    'histogram.dat' index 22 using 1:2 with linespoints ls 23 dt 2 title 'i.i.d. model (calibration split)', \
    'histogram.dat' index 23 using 1:2 with points ls 24 dt 1 title 'per-position model (calibration split)'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'histogram.svg'.speclab_output_suffix
replot
unset output
