#!/usr/bin/env python3
"""The plain baseline: json.load the Prowler OCSF file, map each open finding's check to a
control (the same table), its resource to an asset (external_id, then name) and the asset ×
control × duty to its owner (from `demarc matrix --rows --format csv`), and count open findings
per owner and severity.

usage: baseline.py FINDINGS.json CHECKS.yaml MATRIX.csv ASSETS.tsv
"""
import csv
import json
import re
import sys
from collections import Counter

findings_path, table_path, matrix_path, assets_path = sys.argv[1:5]
control_of, section = {}, ""
for line in open(table_path):
    line = line.rstrip("\n")
    if not line.startswith(" ") and line.endswith(":"):
        section = line[:-1]
    m = re.match(r"  ([A-Za-z0-9_]+): (?:\{control: )?([a-z0-9-]+)", line)
    if m and section == "checks":
        control_of[m.group(1)] = m.group(2)
owner = {}
for row in csv.DictReader(open(matrix_path)):
    owner[(row["asset"], row["control"], row["duty"])] = row["responsible"]
asset_of = {}
for line in open(assets_path):
    ext, aid = line.rstrip("\n").split("\t")
    asset_of[ext] = aid
    asset_of[aid] = aid

groups = Counter()
for f in json.load(open(findings_path)):
    if f.get("status_code") != "FAIL":
        continue
    control = control_of.get(f["metadata"]["event_code"])
    r = f["resources"][0]
    asset = asset_of.get(r.get("uid")) or asset_of.get(r.get("name"))
    if asset is None:
        key = "(undeclared asset)"
    elif control is None:
        key = "(no control)"
    else:
        key = owner.get((asset, control, "configure")) or owner.get((asset, control, "patch")) or "(not applicable)"
    groups[(key, f["severity"])] += 1
for (k, s), n in sorted(groups.items()):
    print(f"{k}\t{s}\t{n}")
