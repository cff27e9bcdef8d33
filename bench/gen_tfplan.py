#!/usr/bin/env python3
"""Writes a `terraform show -json` plan with N resources (S3 buckets, RDS instances, EBS
volumes, KMS keys, security groups open on 22, 3389 or 80, DynamoDB tables), about half of them
misconfigured, for
bench/policy.sh. Deterministic: the same N gives the same file."""
import json
import random
import sys

n = int(sys.argv[1])
rnd = random.Random(n)
resources = []
changes = []
kinds = ["aws_s3_bucket", "aws_db_instance", "aws_ebs_volume", "aws_kms_key", "aws_security_group", "aws_dynamodb_table"]
for i in range(n):
    t = kinds[i % len(kinds)]
    bad = rnd.random() < 0.5
    if t == "aws_s3_bucket":
        v = {"bucket": f"b{i}", "acl": "public-read" if bad else "private", "tags": {"n": str(i)}}
    elif t == "aws_db_instance":
        v = {"identifier": f"db{i}", "storage_encrypted": not bad, "publicly_accessible": bad, "multi_az": rnd.random() < 0.5, "engine": "postgres"}
    elif t == "aws_ebs_volume":
        v = {"availability_zone": "eu-west-1a", "size": 10, "encrypted": not bad}
    elif t == "aws_kms_key":
        v = {"description": f"k{i}", "enable_key_rotation": not bad}
    elif t == "aws_security_group":
        cidr = "0.0.0.0/0" if bad else "10.0.0.0/8"
        port = rnd.choice([22, 3389, 80])
        v = {"name": f"sg{i}", "ingress": [{"from_port": port, "to_port": port, "protocol": "tcp", "cidr_blocks": [cidr], "description": "admin", "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False}]}
    else:
        v = {"name": f"t{i}", "hash_key": "id", "point_in_time_recovery": [{"enabled": not bad}]}
    addr = f"{t}.r{i}"
    resources.append({"address": addr, "mode": "managed", "type": t, "name": f"r{i}", "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0, "values": v})
    changes.append({"address": addr, "mode": "managed", "type": t, "name": f"r{i}", "provider_name": "registry.terraform.io/hashicorp/aws", "change": {"actions": ["create"], "before": None, "after": v, "after_unknown": {}}})
json.dump({"format_version": "1.2", "terraform_version": "1.6.0", "planned_values": {"root_module": {"resources": resources}}, "resource_changes": changes, "configuration": {"root_module": {}}}, sys.stdout)
