#!/usr/bin/env bash
# Fixed-rate latency and a memory soak on `demarc serve` (SQLite, acme), with oha
# (`cargo install oha`): explain at RATE requests/s for SECS seconds, reporting p50/p99/max;
# then SOAK seconds of explain + matrix pages + compliance at a fixed rate, sampling the
# server's resident memory every 30 s, to show it stays flat. Not run in CI.
#   bench/server-rate.sh            # RATE=2000 SECS=30 SOAK=600
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
RATE=${RATE:-2000}
SECS=${SECS:-30}
SOAK=${SOAK:-600}
OHA=${OHA:-$(command -v oha || echo "$HOME/.cache/oha/bin/oha")}
[ -x "$OHA" ] || { echo "bench/server-rate.sh needs oha (cargo install oha)" >&2; exit 2; }
cargo build --release -q -p demarc
demarc=${CARGO_TARGET_DIR:-target}/release/demarc
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export DEMARC_DEMO_PASSWORD="bench password 123"
db="sqlite://$work/rate.db"
"$demarc" serve --demo --db "$db" --listen 127.0.0.1:18491 2>"$work/serve.log" &
pid=$!
until grep -q "listening on" "$work/serve.log"; do sleep 0.2; done
token=$("$demarc" admin create-token --email auditor@demo.example --db "$db" 2>/dev/null)
base="http://127.0.0.1:18491/api/v1/orgs/demo/estates/acme"
explain="$base/explain?asset=app-server-01&control=os-patching&duty=patch"
curl -s -o /dev/null -H "Authorization: Bearer $token" "$explain"
curl -s -o /dev/null -H "Authorization: Bearer $token" "$base/compliance?framework=soc2"
summary() { python3 -c '
import json, sys
d = json.load(sys.stdin)
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
print("| %s | %.0f | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %s |" % (sys.argv[1], s["requestsPerSec"], p["p50"]*1000, p["p99"]*1000, p["p99.9"]*1000, s["slowest"]*1000, codes))
' "$1"; }
echo "| run | requests/s | p50 | p99 | p99.9 | max | status codes |"
echo "|---|---|---|---|---|---|---|"
"$OHA" -z "${SECS}s" -q "$RATE" -c 32 --no-tui --output-format json -H "Authorization: Bearer $token" "$explain" | summary "explain at $RATE/s"
echo "memory: $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$pid/status) before the soak" >&2
( for path in "$explain" "$base/matrix?page=3&per_page=100" "$base/compliance?framework=soc2"; do
    "$OHA" -z "${SOAK}s" -q $((RATE / 4)) -c 8 --no-tui --output-format json -H "Authorization: Bearer $token" "$path" > "$work/soak-$(echo "$path" | md5sum | cut -c1-6).json" &
  done; wait ) &
soak=$!
t=0
while kill -0 $soak 2>/dev/null; do
  echo "soak t=${t}s rss=$(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$pid/status)" >&2
  sleep 30; t=$((t + 30))
done
for f in "$work"/soak-*.json; do summary "soak $(basename "$f" .json)" < "$f"; done
echo "memory: $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$pid/status) after a ${SOAK}s soak" >&2
