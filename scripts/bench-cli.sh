#!/usr/bin/env bash
# Whole-process benchmark of `demarc check` on synthetic estates: wall time and peak memory,
# including YAML loading, for one file and for the same estate split over 8 asset files (a
# directory's files are parsed in parallel). Per-phase times come from DEMARC_TIMINGS.
# Usage: scripts/bench-cli.sh [ASSETS...] (default 10000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/demarc-target}"
cargo build --release -q -p demarc -p demarc-synth
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
printf '%-9s %-6s %-8s %-7s %-8s %-8s %-8s %-8s %-8s\n' \
  assets layout yaml_mb wall_s peak_mb load_s valid_s resolve_s analyse_s
phase() { grep "timing: $1 " "$work/err" | awk '{print $3}' | tr -d s; }
for n in "${sizes[@]}"; do
  rm -rf "$work/e.yaml" "$work/dir"
  "$bin/demarc-synth" "$n" > "$work/e.yaml"
  "$bin/demarc-synth" "$n" --files 8 "$work/dir"
  for layout in file dir; do
    target="$work/e.yaml"
    [ "$layout" = dir ] && target="$work/dir"
    mb=$(du -sb "$target" | awk '{printf "%.1f", $1 / 1048576}')
    DEMARC_TIMINGS=1 /usr/bin/time -f '%e %M' -o "$work/t" \
      "$bin/demarc" check "$target" --as-of 2026-11-23 --format json > /dev/null 2> "$work/err" || true
    # GNU time prefixes "Command exited with non-zero status 1" (gaps found): keep the last line.
    read -r wall rss < <(tail -n 1 "$work/t")
    printf '%-9s %-6s %-8s %-7s %-8s %-8s %-8s %-8s %-8s\n' "$n" "$layout" "$mb" "$wall" \
      "$(( rss / 1024 ))" "$(phase load)" "$(phase validate)" "$(phase resolve)" "$(phase analyse)"
  done
done
