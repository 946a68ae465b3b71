#!/usr/bin/env bash
# Load and abuse test of the HTTP server (not part of ctest: it runs for minutes).
#
#   scripts/load-test.sh [-d SECONDS] [-a SECONDS] [-b BINARY] [-o DIR]
#
#   -d  load phase: wrk on /metrics and /api/v1/state at once (default 180)
#   -a  each small abuse phase: slowloris, huge headers, connection flood (default 30)
#   -H  the hostile phase: 1000 idle + 400 slowloris connections at once (default 60)
#   -b  portwarden binary (default: built in /tmp/build-load)
#   -o  where logs and the summary go (default /tmp/portwarden-load)
#
# The daemon samples every second with 300 extra listeners held by a helper, so /metrics
# carries at least a few hundred series and snapshots are swapped during the load. wrk asks
# for Connection: close, as portwarden serves one request per connection. All traffic goes
# to 127.0.0.1. A probe scrapes /metrics once every 0.5 s throughout, which is what
# Prometheus would see. RSS is sampled from /proc every 5 s. Abuse comes in two sizes: small
# phases (24 slowloris, 24 idle, 16 clients sending 256 KiB headers), then the hostile phase:
# 1000 idle and 400 slowloris connections held at once (reopened when the server closes
# them), with a gzip /metrics probe once a second, then 10 s of probes after they are gone.
# Idle and slow clients wait in CivetWeb's reception stage (--web.max-connections,
# --web.read-timeout), not on a worker thread. Pass criteria: zero errors from wrk and the
# probe in the load phase, RSS at the end within 20% of the one after warm-up and under
# 30 MiB, every probe answered during every abuse phase, the hostile phase's p99 under 1 s,
# and after it the p99 back within the load phase's p99 + 50 ms within 5 s.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
duration=180
abuse=30
hostile=60
binary=""
out=/tmp/portwarden-load
while getopts "d:a:H:b:o:h" opt; do
  case $opt in
    d) duration=$OPTARG ;;
    a) abuse=$OPTARG ;;
    H) hostile=$OPTARG ;;
    b) binary=$OPTARG ;;
    o) out=$OPTARG ;;
    *) sed -n '2,23p' "$0"; exit 2 ;;
  esac
done

"$root/scripts/install-deps.sh"
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ -z "$binary" ]; then
  cmake -S "$root" -B /tmp/build-load -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPORTWARDEN_BUILD_TESTS=OFF >/dev/null
  cmake --build /tmp/build-load -j 2 --target portwarden
  binary=/tmp/build-load/exporter/portwarden
fi
rm -rf "$out"
mkdir -p "$out"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Abusive and helper clients, in one small Python program: bounded in time and count.
cat >"$out/clients.py" <<'PY'
import asyncio, socket, sys, time

def hold_listeners(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        socks.append(s)
    time.sleep(86400)

async def slowloris(port, n, seconds):
    # Each connection sends a request line, then one header byte per second: never a full
    # request. Reconnects when the server gives up on it.
    end = time.monotonic() + seconds
    async def one():
        while time.monotonic() < end:
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                w.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                while time.monotonic() < end:
                    await asyncio.sleep(1)
                    w.write(b"X")
                    await w.drain()
            except OSError:
                await asyncio.sleep(0.1)
    await asyncio.gather(*(one() for _ in range(n)))

async def big_headers(port, n, seconds):
    # Requests with 256 KiB of headers, as fast as the server answers or closes.
    end = time.monotonic() + seconds
    payload = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 262144 + b"\r\n\r\n"
    async def one():
        while time.monotonic() < end:
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                w.write(payload)
                await asyncio.wait_for(w.drain(), 5)
                await asyncio.wait_for(r.read(), 5)
                w.close()
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(0.05)
    await asyncio.gather(*(one() for _ in range(n)))

async def flood(port, n, seconds):
    # Many idle connections that send nothing; reopened when closed.
    end = time.monotonic() + seconds
    async def one():
        while time.monotonic() < end:
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                await asyncio.wait_for(r.read(), max(0.1, end - time.monotonic()))
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(0.1)
    await asyncio.gather(*(one() for _ in range(n)))

mode = sys.argv[1]
if mode == "listeners":
    hold_listeners(int(sys.argv[2]))
else:
    port, n, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    asyncio.run({"slowloris": slowloris, "big_headers": big_headers, "flood": flood}[mode](port, n, seconds))
PY

python3 "$out/clients.py" listeners 300 &
pids+=($!)
"$binary" --web.listen-address=127.0.0.1:0 --collect.interval=1s 2>"$out/portwarden.log" &
daemon=$!
pids+=($daemon)
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*address=127.0.0.1:\([0-9]*\).*/\1/p' "$out/portwarden.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "load-test: portwarden did not start" >&2; cat "$out/portwarden.log" >&2; exit 1; }
base="http://127.0.0.1:$port"
# Ready, and sampled after the helper's 300 listeners were bound.
series=0
for _ in $(seq 100); do
  series=$(curl -s "$base/metrics" | grep -c '^portwarden_listener_info' || true)
  [ "$series" -ge 300 ] && break
  sleep 0.2
done
echo "load-test: portwarden pid $daemon on $base, $series listener series"

(while kill -0 "$daemon" 2>/dev/null; do
   echo "$(date +%s) $(awk '/^VmRSS/ {print $2}' /proc/$daemon/status)"; sleep 5
 done) >"$out/rss.txt" &
pids+=($!)

# probe FILE SECONDS [INTERVAL [CURL-FLAGS]]: one /metrics scrape every INTERVAL (0.5 s);
# "seconds http_code" per line.
probe() {
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    curl -s -o /dev/null --max-time 30 ${4:-} -w '%{time_total} %{http_code}\n' "$base/metrics" >>"$1" || true
    sleep "${3:-0.5}"
  done
}
# stats FILE: p50 p90 p99 max of the probe times (ms), and the failed probes.
stats() {
  sort -n "$1" | awk '{ t[NR] = $1 * 1000; if ($2 != 200) bad++ }
    END { if (NR == 0) { print "no probes"; exit }
          printf "probes=%d p50=%.1fms p90=%.1fms p99=%.1fms max=%.1fms failed=%d\n", NR,
            t[int(NR*0.5)+(NR*0.5>int(NR*0.5))], t[int(NR*0.9)+(NR*0.9>int(NR*0.9))],
            t[int(NR*0.99)+(NR*0.99>int(NR*0.99))], t[NR], bad }'
}

echo "load-test: load phase, ${duration}s"
wrk -t1 -c4 -d"${duration}s" --timeout 10s --latency -H "Connection: close" "$base/metrics" >"$out/wrk-metrics.txt" &
w1=$!
wrk -t1 -c2 -d"${duration}s" --timeout 10s --latency -H "Connection: close" "$base/api/v1/state" >"$out/wrk-state.txt" &
w2=$!
probe "$out/probe-load.txt" "$duration"
wait $w1 $w2

summary="$out/summary.txt"
{
  echo "portwarden load test: $(date -u +%FT%TZ), $(nproc) cores, $series listener series"
  for f in metrics state; do
    echo "== wrk /${f/state/api/v1/state} (${duration}s)"
    grep -E 'Requests/sec|requests in|Socket errors|Non-2xx' "$out/wrk-$f.txt" || true
    sed -n '/Latency Distribution/,/99%/p' "$out/wrk-$f.txt"
  done
  echo "== probe during load: $(stats "$out/probe-load.txt")"
} >"$summary"

for mode in "slowloris 24" "flood 24" "big_headers 16"; do
  set -- $mode
  echo "load-test: abuse phase $1 x$2, ${abuse}s"
  python3 "$out/clients.py" "$1" "$port" "$2" "$abuse" &
  a=$!
  probe "$out/probe-$1-$2.txt" "$abuse"
  wait $a || true
  echo "== probe during $1 x$2: $(stats "$out/probe-$1-$2.txt")" >>"$summary"
done

echo "load-test: hostile phase, 1000 idle + 400 slowloris, ${hostile}s"
python3 "$out/clients.py" flood "$port" 1000 "$hostile" &
h1=$!
python3 "$out/clients.py" slowloris "$port" 400 "$hostile" &
h2=$!
probe "$out/probe-hostile.txt" "$hostile" 1 --compressed
waiting=$(curl -s "$base/metrics" | awk '/^portwarden_http_connections_waiting / {print $2}')
wait $h1 $h2 || true
probe "$out/probe-after.txt" 10 0.5 --compressed
# The first probe after the abusers left that is back within 50 ms of the load phase's p99.
load_p99=$(stats "$out/probe-load.txt" | sed 's/.*p99=\([0-9.]*\)ms.*/\1/')
recovered=$(awk -v limit="$load_p99" 'BEGIN { t = -1 } ($1 * 1000 <= limit + 50) && $2 == 200 { t = (NR - 1) * 0.5; exit }
  END { print t }' "$out/probe-after.txt")
{
  echo "== probe during 1000 idle + 400 slowloris (${hostile}s, gzip, 1/s; $waiting waiting at the end): $(stats "$out/probe-hostile.txt")"
  echo "== probe after they left (10 s, gzip): $(stats "$out/probe-after.txt"); back within load p99 + 50 ms after ${recovered} s"
  curl -s "$base/metrics" | grep '^portwarden_http_connections_dropped_total'
} >>"$summary"

kill -0 "$daemon" || { echo "load-test: portwarden died" >&2; exit 1; }
# After 60 s of load: by then every CivetWeb worker has served requests and holds its
# malloc arena (RSS climbs during the first minute as they join in, then levels off).
start=$(sed -n '13p' "$out/rss.txt" | cut -d' ' -f2)
end=$(tail -1 "$out/rss.txt" | cut -d' ' -f2)
max=$(cut -d' ' -f2 "$out/rss.txt" | sort -n | tail -1)
echo "== RSS: at start $(head -1 "$out/rss.txt" | cut -d' ' -f2) KiB, after 60 s of load ${start} KiB, end ${end} KiB, max ${max} KiB ($(wc -l <"$out/rss.txt") samples)" >>"$summary"
cat "$summary"

errors=$(cat "$out"/wrk-*.txt | grep -cE 'Socket errors|Non-2xx' || true)
load_failed=$(awk '$2 != 200' "$out/probe-load.txt" | wc -l)
abuse_failed=$(cat "$out"/probe-{slowloris-24,flood-24,big_headers-16,hostile,after}.txt | awk '$2 != 200' | wc -l)
hostile_p99=$(stats "$out/probe-hostile.txt" | sed 's/.*p99=\([0-9.]*\)ms.*/\1/')
if [ "$errors" -ne 0 ] || [ "$load_failed" -ne 0 ] || [ "$abuse_failed" -ne 0 ] ||
   [ "$end" -gt $((start * 12 / 10)) ] || [ "$end" -ge 30720 ] ||
   awk -v p="$hostile_p99" 'BEGIN { exit !(p >= 1000) }' ||
   awk -v r="$recovered" 'BEGIN { exit !(r < 0 || r > 5) }'; then
  echo "load-test: FAILED (wrk error lines $errors, failed probes $load_failed + $abuse_failed," \
    "hostile p99 ${hostile_p99} ms, recovered after ${recovered} s, RSS ${end} KiB)" >&2
  exit 1
fi
echo "load-test: passed"
