#!/usr/bin/env python3
"""Writes N synthetic Prowler OCSF 1.4 Detection Findings (class 2004) as one JSON array, the
shape `prowler --output-formats json-ocsf` writes, streaming (memory stays flat).

usage: gen_prowler_ocsf.py N OUT [ARN ...]   (given ARNs are used for 5% of the resources)
"""
import json
import random
import re
import sys
from pathlib import Path

n, out = int(sys.argv[1]), sys.argv[2]
known = sys.argv[3:]
table = Path(__file__).resolve().parent.parent / "crates/catalog/data/checks/prowler.yaml"
checks = []
section = ""
for line in table.read_text().splitlines():
    if not line.startswith(" ") and line.endswith(":"):
        section = line[:-1]
    m = re.match(r"  ([a-z0-9_]+):", line)
    if m and section == "checks":
        checks.append(m.group(1))
checks += ["custom_policy_%d" % i for i in range(20)]  # some map to no control
rng = random.Random(42)
sev = ["Informational", "Low", "Medium", "High", "Critical"]
regions = ["eu-west-1", "us-east-1", "eu-central-1", "ap-southeast-2"]
status = ["FAIL", "FAIL", "PASS", "MANUAL"]

TEMPLATE = json.dumps({
    "message": "@MSG@",
    "metadata": {"event_code": "@CHECK@", "product": {"name": "Prowler", "uid": "prowler", "vendor_name": "Prowler", "version": "5.7.0"},
                 "profiles": ["cloud", "datetime"], "tenant_uid": "", "version": "1.4.0"},
    "severity_id": 0, "severity": "@SEV@", "status": "New", "status_code": "@STATUS@",
    "status_detail": "@MSG@", "status_id": 1,
    "unmapped": {"related_url": "https://docs.aws.amazon.com/", "categories": ["@CAT@"], "depends_on": [], "related_to": [],
                 "additional_urls": [], "notes": "",
                 "compliance": {"CIS-3.0": ["1.1"], "SOC2": ["CC6.1"], "NIST-800-53-Revision-5": ["ac_2", "ac_3_7", "au_2"],
                                "ISO27001-2013": ["A.9.2"], "PCI-3.2.1": ["8.1"], "HIPAA": ["164_308_a_1_ii_b"]}},
    "activity_name": "Create", "activity_id": 1,
    "finding_info": {"created_time": 1767154669, "created_time_dt": "@SEEN@T23:17:49.044268", "desc": "Check @CHECK@",
                     "product_uid": "prowler", "title": "@TITLE@", "types": ["@CAT@"], "uid": "@UID@"},
    "resources": [{"cloud_partition": "aws", "region": "@REGION@",
                   "data": {"details": "", "metadata": {"arn": "@ARN@", "name": "@NAME@", "status": "AVAILABLE", "findings": [],
                                                       "tags": [{"Key": "Environment", "Value": "Prod"}], "type": "@SVC@", "region": "@REGION@"}},
                   "group": {"name": "@SVC@"}, "labels": [], "name": "@NAME@", "type": "@SVC@", "uid": "@ARN@"}],
    "category_name": "Findings", "category_uid": 2, "class_name": "Detection Finding", "class_uid": 2004,
    "cloud": {"account": {"name": "acme-prod", "type": "AWS Account", "type_id": 10, "uid": "111122223333", "labels": []},
              "org": {"name": "", "uid": ""}, "provider": "aws", "region": "@REGION@"},
    "remediation": {"desc": "Remediation for @CHECK@", "references": ["https://docs.aws.amazon.com/"]},
    "risk_details": "Risk details for @CHECK@", "time": 1767154669, "time_dt": "2025-12-30T23:17:49.044268",
    "type_uid": 200401, "type_name": "Detection Finding: Create"}, indent=2)
parts = re.split(r"(@[A-Z]+@)", TEMPLATE)

with open(out, "w") as f:
    f.write("[\n")
    for i in range(n):
        check = rng.choice(checks)
        svc = check.split("_")[0]
        region = rng.choice(regions)
        if known and rng.random() < 0.05:
            arn = rng.choice(known)
            name = re.split(r"[/:]", arn)[-1]
        else:
            name = "resource-%d" % rng.randrange(200000)
            arn = "arn:aws:%s:%s:111122223333:%s" % (svc, region, name)
        v = {"@MSG@": "%s check %s for %s" % (svc.upper(), check, name), "@CHECK@": check,
             "@SEV@": rng.choice(sev), "@STATUS@": rng.choice(status), "@CAT@": svc,
             "@SEEN@": "2026-%02d-%02d" % (rng.randint(1, 11), rng.randint(1, 28)),
             "@TITLE@": check.replace("_", " ").capitalize(),
             "@UID@": "prowler-aws-%s-111122223333-%s-%d" % (check, region, i),
             "@REGION@": region, "@ARN@": arn, "@NAME@": name, "@SVC@": svc}
        rec = "".join(v.get(p, p) for p in parts)
        f.write("  " + rec.replace("\n", "\n  "))
        f.write(",\n" if i + 1 < n else "\n")
    f.write("]\n")
