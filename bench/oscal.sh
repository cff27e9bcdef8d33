#!/usr/bin/env bash
# Reading and validating the NIST SP 800-53 OSCAL catalog and an exported SSP: demarc vs
# compliance-trestle. demarc's side is `demarc export oscal-ssp` on the example estate (which
# parses the shipped 800-53 catalog and writes the SSP); trestle's is loading the same catalog
# and SSP with its pydantic models. Not run in CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${WORK:-$(mktemp -d)}
cd "$here/.."
cargo build --release -q -p demarc
demarc=${CARGO_TARGET_DIR:-target}/release/demarc
[ -x "$work/venv/bin/python" ] || { python3 -m venv "$work/venv"; "$work/venv/bin/pip" -q install compliance-trestle; }
catalog=$(ls crates/compliance/data/oscal/*800-53*catalog*.json | head -1)
t0=$(date +%s.%N)
"$demarc" -q export oscal-ssp -e examples/acme --as-of 2026-11-23 -o "$work/ssp.json" >/dev/null
t1=$(date +%s.%N)
"$work/venv/bin/python" - "$catalog" "$work/ssp.json" <<'PY'
import sys
from trestle.oscal.catalog import Catalog
from trestle.oscal.ssp import SystemSecurityPlan
Catalog.oscal_read(__import__("pathlib").Path(sys.argv[1]))
SystemSecurityPlan.oscal_read(__import__("pathlib").Path(sys.argv[2]))
PY
t2=$(date +%s.%N)
echo "| task | demarc (s) | trestle (s) |"
echo "|---|---|---|"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "| read + validate 800-53 catalog and SSP | %.2f | %.2f |\n", b - a, c - b }'
