#!/usr/bin/env bash
# One wrk run against a PromptWall gateway (plain HTTP) in front of the mock upstream (TLS),
# with the proxy's CPU per request by thread, its audit commits, and its scan-memo counters.
#
#   load-tests/wrk/gateway.sh [promptwall binary] [audit durability] [seconds]
#
# Needs wrk and a release build (cargo build --release -p promptwall -p load-tests).
# Body: load-tests/wrk/chat.lua (a resent system prompt and history, a new 1 KB message).
# THREADS=n sets the proxy's worker threads; STEAL=false turns off work stealing between them; PERF=1 also records `perf record -g` of the proxy
# into $DIR/perf.data (PERF_ARGS replaces `-g`, e.g. `-e probe_promptwall:mi_malloc_aligned --call-graph dwarf -c 16`
# to sample allocation sites after `perf probe -x <binary> mi_malloc_aligned`); TLS=1 serves the gateway over TLS (a `localhost` leaf from PromptWall's
# CA; wrk does not check it); NEW_BYTES=n sizes the new message (default 1024); AUDIT=false turns the usage log off (to see its share).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/target/release/promptwall}
durability=${2:-full}
secs=${3:-8}
dir=$(mktemp -d /tmp/pw-wrk.XXXXXX)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up=$(port); gw=$(port); px=$(port); ad=$(port)
"$root/target/release/mock-llm" --listen "127.0.0.1:$up" --tls-names api.openai.com \
  --cert-out "$dir/mock.pem" >/dev/null 2>&1 &
mock=$!
for _ in $(seq 100); do [ -s "$dir/mock.pem" ] && break; sleep 0.1; done
cat > "$dir/pw.yaml" <<YAML
listen: 127.0.0.1:$px
gateway:
  listen: 127.0.0.1:$gw
${TLS:+  tls_names: [localhost]}
admin:
  listen: 127.0.0.1:$ad
state_dir: $dir/state
threads: ${THREADS:-0}
${STEAL:+work_stealing: $STEAL}
audit:
  enabled: ${AUDIT:-true}
  durability: $durability
upstream:
  extra_ca_file: $dir/mock.pem
  resolve:
    api.openai.com: 127.0.0.1:$up
classifier:
  enabled: false
YAML
"$bin" serve --config "$dir/pw.yaml" 2>"$dir/pw.log" &
pw=$!
trap 'kill $pw $mock 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$ad/healthz" && break; sleep 0.1; done
url=${TLS:+https://localhost:$gw}
url=${url:-http://127.0.0.1:$gw}
wrk -t1 -c16 -d2s -s "$root/load-tests/wrk/chat.lua" "$url" >/dev/null
threads() {
  for t in /proc/$pw/task/*; do echo "$(tr ' ' _ < "$t/comm") $(awk '{print $14+$15}' "$t/stat")"; done |
    awk '{c[$1]+=$2} END {for (k in c) print k, c[k]}' | sort
}
threads > "$dir/t0"
c0=$(awk '{print $14+$15}' "/proc/$pw/stat")
if [ -n "${PERF:-}" ]; then perf record ${PERF_ARGS:--g} -p "$pw" -o "$dir/perf.data" -- sleep $((secs - 1)) 2>/dev/null & fi
wrk -t1 -c16 -d"${secs}s" --latency -s "$root/load-tests/wrk/chat.lua" "$url" > "$dir/wrk.out"
c1=$(awk '{print $14+$15}' "/proc/$pw/stat")
threads > "$dir/t1"
req=$(awk '/requests in/ {print $1}' "$dir/wrk.out")
echo "req/s $(awk '/Requests\/sec/ {print $2}' "$dir/wrk.out")  p50 $(awk '$1=="50%" {print $2}' "$dir/wrk.out")  p99 $(awk '$1=="99%" {print $2}' "$dir/wrk.out")  proxy CPU us/req $(( (c1 - c0) * 10000 / req ))"
join "$dir/t0" "$dir/t1" | awk -v r="$req" '{c[$1]+=$3-$2} END {for (k in c) if (c[k] > 0) printf "  %s: %d us/req\n", k, c[k]*10000/r}'
curl -s "http://127.0.0.1:$ad/metrics" | grep -E '^promptwall_(audit_write_seconds_(count|sum)|scan_memo_total)' || true
echo "files: $dir"
