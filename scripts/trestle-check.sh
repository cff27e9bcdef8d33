#!/usr/bin/env bash
# Loads an OSCAL SSP with compliance-trestle (https://github.com/oscal-compass/compliance-trestle),
# an independent OSCAL implementation whose pydantic models check types, enumerations and
# required fields the way another tool in a GRC pipeline would read the file.
#
#   scripts/trestle-check.sh FILE.json
#
# The venv lives under $HOME/.cache (TRESTLE_VENV overrides) and is reused between runs.
# Exit codes: 0 the SSP loads; 1 trestle is installed and the load fails; 3 trestle could not
# be installed (no access to PyPI, no python3 venv): callers may treat 3 as "not checked".
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 SSP.json" >&2
  exit 2
fi
file=$1
if [ ! -f "$file" ]; then
  echo "error: $file is not a file" >&2
  exit 2
fi
venv="${TRESTLE_VENV:-$HOME/.cache/demarc-trestle-venv}"
if ! "$venv/bin/python" -c 'import trestle.oscal.ssp' >/dev/null 2>&1; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    echo "note: cannot create a Python venv at $venv (is python3-venv installed?); trestle check skipped" >&2
    exit 3
  fi
  if ! timeout 600 "$venv/bin/python" -m pip install -q --disable-pip-version-check compliance-trestle >&2; then
    echo "note: could not install compliance-trestle (no access to PyPI?); trestle check skipped" >&2
    exit 3
  fi
fi
"$venv/bin/python" - "$file" <<'PY' || exit 1
import pathlib
import sys

import trestle
from trestle.oscal.ssp import SystemSecurityPlan

path = pathlib.Path(sys.argv[1]).resolve()
ssp = SystemSecurityPlan.oscal_read(path)
if ssp is None:
    sys.exit(f"error: trestle read nothing from {path}")
si = ssp.system_implementation
reqs = ssp.control_implementation.implemented_requirements
by = sum(len(r.by_components or []) for r in reqs)
def plain(v):
    while hasattr(v, "root") or hasattr(v, "__root__"):
        v = getattr(v, "root", None) or getattr(v, "__root__")
    return v


print(
    f"trestle {trestle.__version__}: {path.name} loads as an OSCAL SSP "
    f"(oscal-version {plain(ssp.metadata.oscal_version)}): "
    f"{len(si.components)} components, {len(si.leveraged_authorizations or [])} leveraged authorizations, "
    f"{len(si.users)} users, {len(reqs)} implemented requirements, {by} by-components"
)
PY
