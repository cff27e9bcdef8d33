#!/usr/bin/env bash
# Load on `demarc serve` over loopback with wrk: explain, one matrix page and a compliance
# rollup, on the acme example and on a 100k-asset synthetic estate, for SQLite and PostgreSQL
# (skipped when none answers at $PG). Each endpoint is warmed once (the first request resolves
# the version), then loaded for $SECS seconds with $CONN connections. Prints a markdown table
# and the server's resident memory before and after. Not run in CI.
#   bench/server.sh            # SECS=15 CONN=16 ASSETS=100000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
SECS=${SECS:-15}
CONN=${CONN:-16}
ASSETS=${ASSETS:-100000}
PG=${PG:-postgres://postgres@127.0.0.1:5432/test}
command -v wrk >/dev/null || { echo "bench/server.sh needs wrk (apt-get install wrk)" >&2; exit 2; }
cargo build --release -q -p demarc -p demarc-synth
target=${CARGO_TARGET_DIR:-target}/release
demarc=$target/demarc
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
"$target/demarc-synth" "$ASSETS" 7 --files 20 "$work/big" >/dev/null
export DEMARC_DEMO_PASSWORD="bench password 123"
port=18481
rss() { awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' "/proc/$1/status"; }
run() { # label url
  local out rps p99
  out=$(wrk -t2 -c"$CONN" -d"${SECS}s" --timeout 60s --latency -H "Authorization: Bearer $token" "$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  echo "| $db_label | $1 | ${rps} | ${p50} | ${p99} | ${errs:-0} |"
}
dbs=("sqlite|sqlite://$work/bench.db")
if psql "$PG" -qc "CREATE SCHEMA bench_$$" >/dev/null 2>&1; then
  dbs+=("postgres|$PG?options=-csearch_path%3Dbench_$$")
else
  echo "note: no PostgreSQL at $PG; PostgreSQL rows skipped" >&2
fi
echo "| database | endpoint | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
for entry in "${dbs[@]}"; do
  db_label=${entry%%|*}
  db=${entry#*|}
  "$demarc" serve --demo --db "$db" --listen "127.0.0.1:$port" 2>"$work/serve.log" &
  pid=$!
  until grep -q "listening on" "$work/serve.log"; do sleep 0.2; done
  token=$("$demarc" admin create-token --email admin@demo.example --scope write --db "$db" 2>/dev/null)
  "$demarc" admin create-estate demo/big --db "$db" >/dev/null
  "$demarc" push "$work/big" --server "http://127.0.0.1:$port" --estate demo/big --token "$token" -m bench >/dev/null
  before=$(rss $pid)
  base="http://127.0.0.1:$port/api/v1/orgs/demo/estates"
  for estate in acme big; do
    # The first cell of the second page: an asset, control and duty that exist.
    cell=$(curl -s -H "Authorization: Bearer $token" "$base/$estate/matrix?page=2&per_page=1" | python3 -c 'import json,sys; c=json.load(sys.stdin)["cells"][0]; print("asset=%s&control=%s&duty=%s" % (c["asset"], c["control"], c["duty"]))')
    for path in "explain?$cell" "matrix?page=2&per_page=100" "compliance?framework=soc2"; do
      curl -s -o /dev/null -H "Authorization: Bearer $token" "$base/$estate/$path"
    done
    run "$estate explain" "$base/$estate/explain?$cell"
    run "$estate matrix page" "$base/$estate/matrix?page=2&per_page=100"
    run "$estate compliance (soc2)" "$base/$estate/compliance?framework=soc2"
  done
  echo "memory ($db_label): $before after start and uploads, $(rss $pid) after the runs" >&2
  kill $pid; wait $pid 2>/dev/null || true
done
