package demarc.rules.access_key_age

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP005",
	"title": "Access key older than 90 days",
	"control": "key-rotation",
	"severity": "medium",
}

day_ns := ((24 * 60) * 60) * 1000000000

as_of_ns := time.parse_ns("2006-01-02", input.as_of)

old(created) if {
	as_of_ns - time.parse_rfc3339_ns(created) > 90 * day_ns
}

deny contains {"resource": r.id, "message": sprintf("active access key %s was created %s", [k.AccessKeyId, k.CreateDate])} if {
	some r in lib.custodian("aws.iam-user")
	some k in r.config["c7n:AccessKeys"]
	k.Status == "Active"
	old(k.CreateDate)
}

deny contains {"resource": r.id, "message": sprintf("active access key last rotated %s", [k.last_rotated])} if {
	some r in lib.custodian("aws.iam-user")
	some k in r.config["c7n:credential-report"].access_keys
	k.active == true
	old(k.last_rotated)
}
