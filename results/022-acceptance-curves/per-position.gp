# SpecLab chart: Per-position acceptance: unconditional P(a ≥ k) (solid) and conditional α_k (dashed)
# Data: per-position.dat. Redraw from this directory with:
#   gnuplot per-position.gp      (writes per-position.png, per-position.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Per-position acceptance: unconditional P(a ≥ k) (solid) and conditional α\_k (dashed)'."\n".'{/*0.8 '.'EAGLE-1 Table 2 n-α (T = 0, chain drafts) against an i.i.d. rate'.'}' font ',15'
set xlabel 'draft position k' font ',12'
set ylabel 'acceptance probability' font ',12'
set border lw 1.2 lc rgb '#404040'
set grid xtics ytics lt 1 lw 1 lc rgb '#dcdcdc'
set tics nomirror out scale 0.7
set style line 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.3
set style line 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.3
set style line 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set style line 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.3
set style line 5 lc rgb '#E69F00' lw 2 pt 13 ps 1.3
set style line 6 lc rgb '#56B4E9' lw 2 pt 15 ps 1.3
set bmargin 13
set key at screen 0.5, 0.01 center bottom vertical Left reverse box lw 1 lc rgb '#a0a0a0' opaque samplen 3 spacing 1.2 width 1
set xrange [0.75:8.25]
set yrange [0:1]
set offsets 0, 0, 0, 0
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,650
set output 'per-position.png'.speclab_output_suffix
plot \
    'per-position.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'i.i.d. α 0.75: P(a ≥ k) (τ = 3.70 at γ = 8)', \
    'per-position.dat' index 1 using 1:2 with linespoints ls 2 dt 2 title 'i.i.d. α 0.75: conditional α\_k', \
    'per-position.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'EAGLE-1 Vicuna-7B MT-bench: P(a ≥ k) (τ = 3.31 at γ = 5)', \
    'per-position.dat' index 3 using 1:2 with linespoints ls 4 dt 2 title 'EAGLE-1 Vicuna-7B MT-bench: conditional α\_k', \
    'per-position.dat' index 4 using 1:2 with linespoints ls 5 dt 1 title 'EAGLE-1 LLaMA2-Chat 70B MT-bench: P(a ≥ k) (τ = 2.96 at γ = 5)', \
    'per-position.dat' index 5 using 1:2 with linespoints ls 6 dt 2 title 'EAGLE-1 LLaMA2-Chat 70B MT-bench: conditional α\_k'

set terminal svg size 1000,650 dynamic enhanced font "sans,11" background rgb 'white'
set output 'per-position.svg'.speclab_output_suffix
replot
unset output
