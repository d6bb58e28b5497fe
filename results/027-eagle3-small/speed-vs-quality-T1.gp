# SpecLab chart: small target, EAGLE-3 vs EAGLE-1: speed against quality, T = 1
# Data: speed-vs-quality-T1.dat. Redraw from this directory with:
#   gnuplot speed-vs-quality-T1.gp      (writes speed-vs-quality-T1.png, speed-vs-quality-T1.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'small target, EAGLE-3 vs EAGLE-1: speed against quality, T = 1'."\n".'{/*0.8 '.'8 validation prompts × 96 bytes; quality: the target''s mean log-likelihood of the output'.'}' font ',15'
set xlabel 'tokens per target forward' font ',12'
set ylabel 'target log-likelihood of the output (nats per token)' font ',12'
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
set offsets graph 0.02, graph 0.02, graph 0.04, graph 0.04
set clip two

set terminal pngcairo enhanced font "sans,11" size 1000,780
set output 'speed-vs-quality-T1.png'.speclab_output_suffix
plot \
    'speed-vs-quality-T1.dat' index 0 using 1:2 with linespoints ls 1 dt 1 title 'EAGLE-1 drafter, chain', \
    'speed-vs-quality-T1.dat' index 1 using 1:2 with linespoints ls 2 dt 1 title 'EAGLE-3 drafter without TTT (S = 1), chain', \
    'speed-vs-quality-T1.dat' index 2 using 1:2 with linespoints ls 3 dt 1 title 'EAGLE-3 drafter (S = 4), chain', \
    'speed-vs-quality-T1.dat' index 3 using 1:2 with linespoints ls 4 dt 1 title 'EAGLE-2 (EAGLE-1 drafter), dynamic K 3 depth 5', \
    'speed-vs-quality-T1.dat' index 4 using 1:2 with linespoints ls 5 dt 1 title 'EAGLE-3 (S = 4), dynamic K 3 depth 5', \
    'speed-vs-quality-T1.dat' index 5 using 1:2 with points ls 6 dt 1 title 'plain decoding of the target'

set terminal svg size 1000,780 dynamic enhanced font "sans,11" background rgb 'white'
set output 'speed-vs-quality-T1.svg'.speclab_output_suffix
replot
unset output
