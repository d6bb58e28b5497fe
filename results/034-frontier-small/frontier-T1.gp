# SpecLab chart: Every decoding method, small target, T = 1
# Data: frontier-T1.dat. Redraw from this directory with:
#   gnuplot frontier-T1.gp      (writes frontier-T1.png, frontier-T1.svg)
# speclab sets speclab_output_suffix so that gnuplot writes temporary files
# that are renamed into place afterwards: no half-written images.
if (!exists("speclab_output_suffix")) speclab_output_suffix = ''

set encoding utf8
set datafile missing '?'
set title 'Every decoding method, small target, T = 1'."\n".'{/*0.8 '.'each method at its fastest setting; quality relative to plain decoding of the same prompts'.'}' font ',15'
set xlabel 'tokens per target forward' font ',12'
set ylabel 'target log-likelihood minus plain decoding''s (nats per token)' font ',12'
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

set terminal pngcairo enhanced font "sans,11" size 1000,900
set output 'frontier-T1.png'.speclab_output_suffix
plot \
    'frontier-T1.dat' index 0 using 1:2 with points ls 1 dt 1 title 'lossless methods (the target''s own output law)', \
    'frontier-T1.dat' index 1 using 1:2 with points ls 2 dt 1 title 'Medusa-1, typical acceptance (lossy) (025)', \
    'frontier-T1.dat' index 2 using 1:2 with points ls 3 dt 1 title 'MTAD, draft model, beam 1 (033)', \
    'frontier-T1.dat' index 3 using 1:2 with points ls 4 dt 1 title 'MTAD, draft model, beam 4 (033)', \
    'frontier-T1.dat' index 4 using 1:2 with points ls 5 dt 1 title 'MTJD, the target''s own beam 4 (033)', \
    'frontier-T1.dat' index 5 using 1:2 with points ls 6 dt 1 title 'plain decoding'

set terminal svg size 1000,900 dynamic enhanced font "sans,11" background rgb 'white'
set output 'frontier-T1.svg'.speclab_output_suffix
replot
unset output
