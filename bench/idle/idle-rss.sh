#!/usr/bin/env bash
# Idle memory of a whole server (docs/BENCHMARKS.md "Idle server"): `./tertulia start` of the checkout TREE with
# every part and nobody connected; once HTTPS answers, 20 s more, then VmRSS and threads of the process and its
# CPU time over the next 20 s. One line of output. Alternate trees (before/after) run by run.
#   bench/idle/idle-rss.sh TREE LABEL PORT [more start options, e.g. --media-workers-on-demand true]
# Uses ports PORT, PORT+1 and PORT+100..199; the data directory /tmp/tertulia-idle-<tree>-LABEL is kept (its
# certificate is made once), the server's output goes to /tmp/tertulia-idle-LABEL.log.
set -u
tree=$1 label=$2 P=$3; shift 3
cd "$tree"
D=/tmp/tertulia-idle-$(basename "$tree")-$label
mkdir -p "$D"
log=/tmp/tertulia-idle-$label.log
./tertulia start --data-dir "$D" --https-port $P --http-port 0 --media-port $((P+1)) --tcp-media-port 0 \
  --plain-rtp-port-min $((P+100)) --plain-rtp-port-max $((P+199)) --sip-port 0 --turn off "$@" > "$log" 2>&1 &
pid=$!
for i in $(seq 1 240); do
  curl -sk -o /dev/null "https://127.0.0.1:$P/" && break
  kill -0 $pid 2>/dev/null || { echo "$label: server died"; tail -5 "$log"; exit 1; }
  sleep 0.5
done
sleep 20
rss=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$pid/status)
thr=$(awk '/Threads/ {print $2}' /proc/$pid/status)
t0=$(awk '{print $14+$15}' /proc/$pid/stat)
load=$(cut -d' ' -f1 /proc/loadavg)
sleep 20
t1=$(awk '{print $14+$15}' /proc/$pid/stat)
tck=$(getconf CLK_TCK)
cpu=$(awk -v a=$t0 -v b=$t1 -v t=$tck 'BEGIN {printf "%.2f", (b-a)/t/20*100}')
code=$(grep -o '"code":"[^"]*"' "$log" | head -1)
echo "$(date +%H:%M:%S) $label load=$load rss=${rss}MiB threads=$thr cpu=${cpu}% $code"
kill -INT $pid; wait $pid 2>/dev/null
