#!/usr/bin/env bash
# Reading and validating the NIST SP 800-53 rev5 OSCAL catalog, a baseline profile and an
# exported SSP: demarc vs compliance-trestle (its pydantic OSCAL models), whole processes,
# best of $RUNS. Not run in CI.
#
# demarc's side does more than read: `compliance` parses the shipped 800-53 catalog (the same
# file), reads and resolves the high baseline profile given with --profile and rolls the acme
# estate up against it; `import oscal` reads the SSP, validates it against NIST's OSCAL 1.1.3
# JSON schema and checks its internal references. trestle's side only loads each document into
# its models (which validates them against the OSCAL model).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${WORK:-$(mktemp -d)}
runs=${RUNS:-5}
cd "$here/.."
cargo build --release -q -p demarc
demarc=${CARGO_TARGET_DIR:-target}/release/demarc
venv="$work/trestle-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" -q install compliance-trestle; }
catalog=crates/compliance/data/oscal/NIST_SP-800-53_rev5_catalog.json
profile=crates/compliance/data/oscal/NIST_SP-800-53_rev5_HIGH-baseline_profile.json
"$demarc" -q export oscal-ssp -e examples/acme --as-of 2026-11-23 -o "$work/ssp.json" >/dev/null
best() { # best wall time in seconds of running "$@" $runs times
  local b=999
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
    b=$(awk -v b="$b" -v d="$(awk -v a="$t0" -v c="$t1" 'BEGIN{print c-a}')" 'BEGIN{print (d<b)?d:b}')
  done
  printf '%.3f\n' "$b"
}
trestle() { # $1 = model module.class, $2 = file
  "$venv/bin/python" -c "import sys, pathlib, importlib; m, c = sys.argv[1].rsplit('.', 1); getattr(importlib.import_module(m), c).oscal_read(pathlib.Path(sys.argv[2]))" "$1" "$2"
}
d_cat=$(best "$demarc" -q compliance examples/acme -F nist-800-53 --profile "$profile" --as-of 2026-11-23 --format json)
t_cat=$(best trestle trestle.oscal.catalog.Catalog "$catalog")
t_prof=$(best trestle trestle.oscal.profile.Profile "$profile")
d_ssp=$(best "$demarc" -q import oscal "$work/ssp.json" -o "$work/overlay.yaml")
t_ssp=$(best trestle trestle.oscal.ssp.SystemSecurityPlan "$work/ssp.json")
t_py=$(best "$venv/bin/python" -c "import trestle.oscal.catalog, trestle.oscal.profile, trestle.oscal.ssp")
echo "| task | demarc (s) | compliance-trestle (s) |"
echo "|---|---:|---:|"
echo "| 800-53 catalog + high profile (demarc: parse, resolve, roll acme up) | $d_cat | $(awk -v a="$t_cat" -v b="$t_prof" 'BEGIN{printf "%.3f", a+b}') |"
echo "| exported SSP ($(du -h "$work/ssp.json" | cut -f1); demarc: schema + references) | $d_ssp | $t_ssp |"
echo "| (trestle: importing its OSCAL modules alone) | | $t_py |"
