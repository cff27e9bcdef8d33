#!/usr/bin/env bash
# Benchmark of `demarc ingest findings` and `demarc findings --by party` on Prowler OCSF files
# of 150k and 1.5M findings, against a plain Python `json.load` baseline that groups the same
# way and against `cat FILE > /dev/null`. Prints a Markdown table of wall time and peak memory
# (`/usr/bin/time -v`). Not run in CI.
#
#   bench/findings.sh                 # 150k and 1.5M
#   SIZES="150000" bench/findings.sh  # only 150k
#   BENCH_DIR=/big/disk bench/findings.sh
#
# The Python baseline holds the whole file in memory (about 5x its size); it is skipped for a
# file when that would exceed the machine's available memory (set BASELINE=always to force).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"150000 1500000"}
DIR=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$DIR"
INGEST=${INGEST:-ingest findings}
AS_OF=2026-11-23
cargo build --release -q -p demarc
BIN=${CARGO_TARGET_DIR:-target}/release/demarc

# acme, with the external ids discovery would give a few of its AWS assets.
EST="$DIR/acme"
rm -rf "$EST" && cp -r examples/acme "$EST"
ARNS=(
  "batch-01=arn:aws:ec2:eu-west-1:111122223333:instance/i-0b47c4a1e5d3f2a10"
  "app-server-01=arn:aws:ec2:eu-west-1:111122223333:instance/i-0a1b2c3d4e5f60718"
  "order-exports=arn:aws:s3:::acme-order-exports"
  "orders-db=arn:aws:rds:eu-west-1:111122223333:db:acme-orders"
)
: > "$DIR/assets.tsv"
KNOWN=()
for pair in "${ARNS[@]}"; do
  id=${pair%%=*}; arn=${pair#*=}
  sed -i "s|{id: $id, |{id: $id, external_id: \"$arn\", |" "$EST/assets/aws.yaml"
  printf '%s\t%s\n' "$arn" "$id" >> "$DIR/assets.tsv"
  KNOWN+=("$arn")
done
"$BIN" matrix "$EST" --as-of $AS_OF --rows --format csv > "$DIR/matrix.csv"

measure() { # label, command...: prints "seconds|peak MiB"
  local log="$DIR/time.log"
  /usr/bin/time -v "$@" > /dev/null 2> "$log" || { cat "$log" >&2; return 1; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  python3 -c "
w='$wall'.split(':'); s=sum(float(x)*60**i for i,x in enumerate(reversed(w)))
print(f'{s:.2f}|{int($rss)/1024:.0f}')"
}

echo "| findings | file | step | wall (s) | peak RSS (MiB) |"
echo "|---:|---:|---|---:|---:|"
for n in $SIZES; do
  F="$DIR/prowler-$n.ocsf.json"
  [ -f "$F" ] || python3 bench/gen_prowler_ocsf.py "$n" "$F" "${KNOWN[@]}"
  size=$(du -h "$F" | cut -f1)
  cat "$F" > /dev/null   # warm the page cache for everyone
  row() { echo "| $n | $size | $1 | ${2%%|*} | ${2##*|} |"; }
  row "cat FILE > /dev/null" "$(measure cat "$F")"
  ingest=$(measure "$BIN" $INGEST "$F" -e "$EST" --as-of $AS_OF -q)
  row "demarc ingest findings" "$ingest"
  report=$(measure "$BIN" findings "$EST" --as-of $AS_OF --by party --fail-on never -q)
  row "demarc findings --by party" "$report"
  total=$(python3 -c "print(f'{${ingest%%|*}+${report%%|*}:.2f}|{max(${ingest##*|},${report##*|})}')")
  row "**ingest + findings --by party**" "$total"
  avail=$(awk '/MemAvailable/ {print $2 * 1024}' /proc/meminfo)
  bytes=$(stat -c %s "$F")
  if [ "${BASELINE:-}" = always ] || [ $((bytes * 6)) -lt "$avail" ]; then
    row "python json.load + group by owner" "$(measure python3 bench/baseline.py "$F" crates/catalog/data/checks/prowler.yaml "$DIR/matrix.csv" "$DIR/assets.tsv")"
  else
    echo "| $n | $size | python json.load + group by owner | skipped: needs ~$((bytes * 6 / 1073741824)) GiB | |"
  fi
done
echo
echo "files in $DIR"
