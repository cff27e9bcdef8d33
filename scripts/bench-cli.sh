#!/usr/bin/env bash
# Whole-process benchmark of `demarc check --format json` on synthetic estates: wall time and
# peak memory, including loading, for three layouts of the same estate: one YAML file, a
# directory of 8 YAML asset files (parsed in parallel), and policy YAML plus a JSON Lines
# inventory (`jsonl`). `cat_s` is the time to read the same bytes with `cat`, the floor for any
# tool. Per-phase times come from DEMARC_TIMINGS.
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
printf '%-9s %-6s %-8s %-7s %-7s %-8s %-7s %-8s %-8s %-9s %-9s\n' \
  assets layout input_mb wall_s cat_s peak_mb load_s valid_s prep_s resolve_s analyse_s
phase() { grep "timing: $1 " "$work/err" | awk '{print $3}' | tr -d s; }
for n in "${sizes[@]}"; do
  rm -rf "$work/e.yaml" "$work/dir" "$work/inv"
  "$bin/demarc-synth" "$n" > "$work/e.yaml"
  "$bin/demarc-synth" "$n" --files 8 "$work/dir"
  "$bin/demarc-synth" "$n" --inventory "$work/inv"
  for layout in file dir jsonl; do
    case "$layout" in
      file) target="$work/e.yaml"; files=("$work/e.yaml") ;;
      dir) target="$work/dir"; files=("$work"/dir/*) ;;
      jsonl) target="$work/inv/estate.yaml"; files=("$work"/inv/*) ;;
    esac
    mb=$(cat "${files[@]}" | wc -c | awk '{printf "%.1f", $1 / 1048576}')
    cat_s=$( { /usr/bin/time -f '%e' cat "${files[@]}" > /dev/null; } 2>&1 | tail -n 1 )
    DEMARC_TIMINGS=1 /usr/bin/time -f '%e %M' -o "$work/t" \
      "$bin/demarc" check "$target" --as-of 2026-11-23 --format json > /dev/null 2> "$work/err" || true
    # GNU time prefixes "Command exited with non-zero status 1" (gaps found): keep the last line.
    read -r wall rss < <(tail -n 1 "$work/t")
    printf '%-9s %-6s %-8s %-7s %-7s %-8s %-7s %-8s %-8s %-9s %-9s\n' "$n" "$layout" "$mb" "$wall" \
      "$cat_s" "$(( rss / 1024 ))" "$(phase load)" "$(phase validate)" "$(phase prepare)" \
      "$(phase resolve)" "$(phase analyse)"
  done
done
