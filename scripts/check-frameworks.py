#!/usr/bin/env python3
"""Checks framework coverage: every requirement of every framework is either mapped by a
demarc control (crates/catalog/data/controls.yaml, `mappings.<framework>`) or marked
`not_addressed` with a reason in crates/compliance/data/frameworks/<framework>.yaml.

Requirement lists come from those files, except NIST SP 800-53 rev5, whose requirements are
the controls and enhancements of the NIST OSCAL catalog (withdrawn ones skipped); its file
carries only `not_addressed` entries (`match:` globs or `ids:` lists).

Prints a coverage table, and for NIST the mapped share of each baseline profile found next
to the catalog (NIST low/moderate/high/privacy, FedRAMP low/moderate/high/LI-SaaS).

Exits 1 when a requirement is unexplained (neither mapped nor not_addressed), a control maps
an id the framework does not have, a requirement is both mapped and not_addressed, or a
framework file is malformed.

Usage: scripts/check-frameworks.py [--nist-catalog PATH] [--list-unexplained]
"""

import argparse
import fnmatch
import json
import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit(
        "check-frameworks.py needs PyYAML: install it with `pip install pyyaml` "
        "(or `apt-get install python3-yaml`)"
    )

ROOT = Path(__file__).resolve().parent.parent
CONTROLS = ROOT / "crates/catalog/data/controls.yaml"
FRAMEWORKS = ROOT / "crates/catalog/data/frameworks.yaml"
FW_DIR = ROOT / "crates/compliance/data/frameworks"
DEFAULT_NIST = ROOT.parent / "shared/oscal/content/NIST_SP-800-53_rev5_catalog.json"
if not DEFAULT_NIST.exists():  # the same files, shipped in the repo
    DEFAULT_NIST = ROOT / "crates/compliance/data/oscal/NIST_SP-800-53_rev5_catalog.json"
MAX_TITLE = 90

# Baseline profiles, by file name, in the order they are printed.
BASELINES = [
    ("NIST low", "NIST_SP-800-53_rev5_LOW-baseline_profile.json"),
    ("NIST moderate", "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"),
    ("NIST high", "NIST_SP-800-53_rev5_HIGH-baseline_profile.json"),
    ("NIST privacy", "NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json"),
    ("FedRAMP low", "FedRAMP_rev5_LOW-baseline_profile.json"),
    ("FedRAMP moderate", "FedRAMP_rev5_MODERATE-baseline_profile.json"),
    ("FedRAMP high", "FedRAMP_rev5_HIGH-baseline_profile.json"),
    ("FedRAMP LI-SaaS", "FedRAMP_rev5_LI-SaaS-baseline_profile.json"),
]

errors = []


def error(msg):
    errors.append(msg)


def normalise_nist(raw):
    """`AC-2` -> `ac-2`, `AC-2(1)`/`AC-2.1`/`AC-02(01)` -> `ac-2.1`. A statement part
    (`AC-2a`, `AC-2(1)(a)`, `ac-2_smt.a`) counts for its control or enhancement."""
    s = raw.strip().lower()
    m = re.match(r"^([a-z]{2})-0*(\d+)(?:(?:\(0*(\d+)\))|(?:\.0*(\d+)))?", s)
    if not m or m.group(2) == "0":
        return None
    enh = m.group(3) or m.group(4)
    return f"{m.group(1)}-{int(m.group(2))}" + (f".{int(enh)}" if enh else "")


def nist_requirements(catalog_path):
    cat = json.loads(Path(catalog_path).read_text())["catalog"]
    ids = []

    def walk(c):
        withdrawn = any(
            p.get("name") == "status" and p.get("value") == "withdrawn"
            for p in c.get("props", [])
        )
        if not withdrawn:
            ids.append(c["id"])
        for e in c.get("controls", []):
            walk(e)

    for g in cat.get("groups", []):
        for c in g.get("controls", []):
            walk(c)
    return ids


def profile_ids(path):
    prof = json.loads(Path(path).read_text())["profile"]
    out = []
    for imp in prof.get("imports", []):
        for inc in imp.get("include-controls", []):
            out.extend(inc.get("with-ids", []))
    return out


def load_framework_file(fw, nist_ids):
    """Returns (requirement ids in order, {id: reason} for not_addressed ones)."""
    path = FW_DIR / f"{fw}.yaml"
    if not path.exists():
        error(f"{fw}: no requirement file {path.relative_to(ROOT)}")
        return [], {}
    data = yaml.safe_load(path.read_text()) or {}
    where = path.relative_to(ROOT)
    if data.get("version") != 1:
        error(f"{where}: `version: 1` expected")
    if data.get("framework") != fw:
        error(f"{where}: `framework: {data.get('framework')}` must equal the file name `{fw}`")
    if not data.get("edition"):
        error(f"{where}: `edition` is missing")
    groups = data.get("groups") or {}
    reqs, reasons = [], {}
    if fw == "nist-800-53":
        if data.get("requirements"):
            error(f"{where}: NIST requirements come from the OSCAL catalog; list only `not_addressed`")
        reqs = list(nist_ids)
    else:
        seen = set()
        for r in data.get("requirements") or []:
            rid = str(r.get("id", "")).strip()
            if not rid:
                error(f"{where}: a requirement without an id")
                continue
            if rid in seen:
                error(f"{where}: requirement {rid} is listed twice")
            seen.add(rid)
            reqs.append(rid)
            title = r.get("title") or ""
            if not title or len(title) > MAX_TITLE or "\n" in title:
                error(f"{where}: {rid}: title must be one line of 1-{MAX_TITLE} characters")
            g = r.get("group")
            if g is not None and groups and str(g) not in {str(k) for k in groups}:
                error(f"{where}: {rid}: group `{g}` is not under `groups:`")
            if "not_addressed" in r:
                reason = (r.get("not_addressed") or "").strip()
                if len(reason) < 20:
                    error(f"{where}: {rid}: `not_addressed` needs a specific reason")
                reasons[rid] = reason
    known = set(reqs)
    for i, item in enumerate(data.get("not_addressed") or []):
        reason = (item.get("reason") or "").strip()
        if len(reason) < 20:
            error(f"{where}: not_addressed[{i}] needs a specific reason")
        hits = []
        if "match" in item:
            pat = str(item["match"]).lower() if fw == "nist-800-53" else str(item["match"])
            hits = [r for r in reqs if fnmatch.fnmatchcase(r, pat)]
        for raw in item.get("ids") or []:
            rid = normalise_nist(str(raw)) if fw == "nist-800-53" else str(raw).strip()
            if rid not in known:
                error(f"{where}: not_addressed[{i}] names unknown requirement `{raw}`")
            else:
                hits.append(rid)
        if not hits:
            error(f"{where}: not_addressed[{i}] matches no requirement")
        for rid in hits:
            reasons.setdefault(rid, reason)
    return reqs, reasons


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nist-catalog", default=str(DEFAULT_NIST), help="NIST SP 800-53 rev5 OSCAL catalog JSON")
    ap.add_argument("--profiles-dir", help="directory of baseline profile JSONs (default: the catalog's directory)")
    ap.add_argument("--list-unexplained", action="store_true", help="print every unexplained requirement id")
    args = ap.parse_args()

    frameworks = yaml.safe_load(FRAMEWORKS.read_text())["frameworks"]
    mapping_fws = [f["id"] for f in frameworks if f.get("kind") != "attestation"]
    for p in sorted(FW_DIR.glob("*.yaml")):
        if p.stem not in mapping_fws:
            error(f"{p.relative_to(ROOT)}: `{p.stem}` is not a mapping framework in frameworks.yaml")

    nist_ids = nist_requirements(args.nist_catalog)
    controls = yaml.safe_load(CONTROLS.read_text())["controls"]

    rows, nist_state = [], None
    for fw in mapping_fws:
        reqs, reasons = load_framework_file(fw, nist_ids)
        known = set(reqs)
        mapped = set()
        for c in controls:
            for m in (c.get("mappings") or {}).get(fw) or []:
                raw = str(m["id"] if isinstance(m, dict) else m)
                rid = normalise_nist(raw) if fw == "nist-800-53" else raw.strip()
                if rid is None or rid not in known:
                    error(f"controls.yaml: {c['id']} maps unknown {fw} requirement `{raw}`")
                    continue
                mapped.add(rid)
        both = sorted(mapped & set(reasons), key=reqs.index)
        for rid in both:
            error(f"{fw}: {rid} is mapped and also marked not_addressed")
        unexplained = [r for r in reqs if r not in mapped and r not in reasons]
        for rid in unexplained:
            error(f"{fw}: {rid} is neither mapped nor not_addressed")
        if unexplained and args.list_unexplained:
            print(f"{fw} unexplained: {' '.join(unexplained)}")
        na = len([r for r in reqs if r in reasons and r not in mapped])
        rows.append((fw, len(reqs), len(mapped), na, len(unexplained)))
        if fw == "nist-800-53":
            nist_state = (mapped, reasons)

    pct = lambda a, b: f"{100.0 * a / b:.1f}%" if b else "-"
    header = ("framework", "requirements", "mapped", "not addressed", "unexplained", "mapped %")
    print("%-18s %12s %8s %14s %12s %9s" % header)
    for fw, n, m, na, u in rows:
        print("%-18s %12d %8d %14d %12d %9s" % (fw, n, m, na, u, pct(m, n)))

    if nist_state:
        mapped, reasons = nist_state
        pdir = Path(args.profiles_dir) if args.profiles_dir else Path(args.nist_catalog).parent
        print()
        print("%-18s %12s %8s %14s %12s %9s" % ("NIST baseline", "controls", "mapped", "not addressed", "unexplained", "mapped %"))
        for label, name in BASELINES:
            path = pdir / name
            if not path.exists():
                print("%-18s %12s" % (label, "(missing)"))
                continue
            ids = [normalise_nist(i) or i for i in profile_ids(path)]
            unknown = [i for i in ids if i not in set(nist_ids)]
            if unknown:
                error(f"{name}: ids not in the catalog (withdrawn?): {' '.join(unknown[:10])}")
            m = sum(1 for i in ids if i in mapped)
            na = sum(1 for i in ids if i not in mapped and i in reasons)
            print("%-18s %12d %8d %14d %12d %9s" % (label, len(ids), m, na, len(ids) - m - na, pct(m, len(ids))))

    if errors:
        print(file=sys.stderr)
        for e in errors[:200]:
            print(f"error: {e}", file=sys.stderr)
        if len(errors) > 200:
            print(f"... and {len(errors) - 200} more", file=sys.stderr)
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
