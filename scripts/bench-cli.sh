#!/usr/bin/env bash
# Whole-process benchmark of `demarc check` on synthetic estates: wall time and peak memory,
# including YAML loading. Usage: scripts/bench-cli.sh [ASSETS...] (default 10000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/demarc-target}"
cargo build --release -q -p demarc -p demarc-synth
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
printf '%-10s %-12s %-10s %-12s\n' assets yaml_mb wall_s peak_rss_mb
for n in "${sizes[@]}"; do
  "$bin/demarc-synth" "$n" > "$work/e.yaml"
  mb=$(( $(stat -c %s "$work/e.yaml") / 1048576 ))
  /usr/bin/time -f '%e %M' -o "$work/t" "$bin/demarc" check "$work/e.yaml" --as-of 2026-11-23 --format json > /dev/null || true
  read -r wall rss < "$work/t"
  printf '%-10s %-12s %-10s %-12s\n' "$n" "$mb" "$wall" "$(( rss / 1024 ))"
done
