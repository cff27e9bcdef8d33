#!/usr/bin/env bash
# Checkov vs `demarc policy` on generated Terraform plans (1k, 10k, 100k resources), with
# ten rules whose semantics match ten Checkov checks exactly:
#   CKV_AWS_20 (S3 ACL public-read / public-read-write), CKV_AWS_16 (RDS storage_encrypted),
#   CKV_AWS_17 (RDS publicly_accessible), CKV_AWS_157 (RDS multi_az), CKV_AWS_3 (EBS
#   encrypted), CKV_AWS_7 (KMS rotation), CKV_AWS_24 / CKV_AWS_25 / CKV_AWS_260 (SG ingress from
#   0.0.0.0/0 to 22 / 3389 / 80), CKV_AWS_28 (DynamoDB PITR).
# Prints a markdown table; fails when the failing-resource sets differ. Not run in CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${WORK:-$(mktemp -d)}
cd "$here/.."
cargo build --release -q -p demarc
demarc=${CARGO_TARGET_DIR:-target}/release/demarc
[ -x "$work/venv/bin/checkov" ] || { python3 -m venv "$work/venv"; "$work/venv/bin/pip" -q install checkov; }
checks=CKV_AWS_20,CKV_AWS_16,CKV_AWS_17,CKV_AWS_157,CKV_AWS_3,CKV_AWS_7,CKV_AWS_24,CKV_AWS_25,CKV_AWS_260,CKV_AWS_28
# One module per check, as demarc's own rules are (rule id = Checkov's check id); the
# helpers live in a shared module.
rm -rf "$work/rules" && mkdir -p "$work/rules"
cat > "$work/rules/lib.rego" <<'REGO'
package bench.lib
import rego.v1
tf(t) := [r | some r in input.resources; r.type == t]
open_to(r, port) if { some i in r.config.ingress; "0.0.0.0/0" in i.cidr_blocks; i.from_port <= port; port <= i.to_port }
REGO
rule() { # check id, title, body (`r` is the resource)
  local pkg
  pkg=$(echo "$1" | tr 'A-Z' 'a-z')
  cat > "$work/rules/$pkg.rego" <<REGO
package bench.$pkg
import rego.v1
import data.bench.lib
metadata := {"id": "$1", "title": "$2", "control": "secure-configuration", "severity": "medium"}
deny contains {"resource": r.id, "message": "$1"} if { $3 }
REGO
}
rule CKV_AWS_20 "S3 bucket ACL not public" 'some r in lib.tf("aws_s3_bucket"); r.config.acl in {"public-read", "public-read-write"}'
rule CKV_AWS_16 "RDS storage encrypted" 'some r in lib.tf("aws_db_instance"); not r.config.storage_encrypted == true'
rule CKV_AWS_17 "RDS not publicly accessible" 'some r in lib.tf("aws_db_instance"); r.config.publicly_accessible == true'
rule CKV_AWS_3 "EBS volume encrypted" 'some r in lib.tf("aws_ebs_volume"); not r.config.encrypted == true'
rule CKV_AWS_7 "KMS key rotation on" 'some r in lib.tf("aws_kms_key"); not r.config.enable_key_rotation == true'
rule CKV_AWS_157 "RDS multi-AZ" 'some r in lib.tf("aws_db_instance"); not contains(r.config.engine, "aurora"); not r.config.multi_az == true'
rule CKV_AWS_24 "no SSH from 0.0.0.0/0" 'some r in lib.tf("aws_security_group"); lib.open_to(r, 22)'
rule CKV_AWS_25 "no RDP from 0.0.0.0/0" 'some r in lib.tf("aws_security_group"); lib.open_to(r, 3389)'
rule CKV_AWS_260 "no HTTP from 0.0.0.0/0" 'some r in lib.tf("aws_security_group"); lib.open_to(r, 80)'
rule CKV_AWS_28 "DynamoDB point-in-time recovery" 'some r in lib.tf("aws_dynamodb_table"); not r.config.point_in_time_recovery[0].enabled == true'
echo "| resources | checkov (s) | demarc ingest + policy (s) | speed-up | same results |"
echo "|---|---|---|---|---|"
for n in ${SIZES:-1000 10000 100000}; do
  python3 "$here/gen_tfplan.py" $n > "$work/plan.json"
  est="$work/estate-$n"; rm -rf "$est"; mkdir -p "$est"
  printf 'version: 1\nestate: bench\ncustomer: me\nparties:\n  me: {kind: customer, name: Me}\n' > "$est/estate.yaml"
  t0=$(date +%s.%N)
  "$work/venv/bin/checkov" --skip-download -f "$work/plan.json" --framework terraform_plan --check $checks -o json > "$work/checkov.json" || true
  t1=$(date +%s.%N)
  # demarc's side takes well under a second, where a page fault or a neighbour moves it by
  # a tenth: the median of three fresh runs (a new estate each time). Checkov runs once.
  runs=()
  for _ in 1 2 3; do
    rm -rf "$est/.demarc"
    a=$(date +%s.%N)
    "$demarc" -q ingest inventory "$work/plan.json" -e "$est" > /dev/null
    "$demarc" -q policy "$est" --no-builtin --rules "$work/rules" --format json > "$work/demarc.json" || true
    b=$(date +%s.%N)
    runs+=("$(awk -v a="$a" -v b="$b" 'BEGIN { print b - a }')")
  done
  median=$(printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p)
  t2=$(awk -v t1="$t1" -v m="$median" 'BEGIN { printf "%.6f", t1 + m }')
  python3 - "$work/checkov.json" "$work/demarc.json" > "$work/cmp.txt" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c = c if isinstance(c, list) else [c]
ck = {(f["check_id"], f["resource"]) for r in c for f in r.get("results", {}).get("failed_checks", [])}
d = {(x["message"], x["resource"]) for x in json.load(open(sys.argv[2]))["results"]}
print("yes" if ck == d else f"NO: checkov-only {len(ck - d)}, demarc-only {len(d - ck)}")
PY
  awk -v n=$n -v a="$t0" -v b="$t1" -v c="$t2" -v same="$(cat "$work/cmp.txt")" \
    'BEGIN { printf "| %d | %.2f | %.2f | %.0fx | %s |\n", n, b - a, c - b, (b - a) / (c - b), same }'
done
