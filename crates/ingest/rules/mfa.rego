package demarc.rules.mfa

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP004",
	"title": "Privileged console user without MFA",
	"control": "mfa",
	"severity": "high",
}

admin(r) if {
	some p in r.config.AttachedManagedPolicies
	contains(p.PolicyName, "Administrator")
}

admin(r) if {
	some p in r.config["c7n:AttachedPolicies"]
	contains(p.PolicyName, "Administrator")
}

deny contains {"resource": r.id, "message": "administrator signs in with a password and has no MFA device"} if {
	some r in lib.custodian("aws.iam-user")
	report := r.config["c7n:credential-report"]
	report.password_enabled == true
	report.mfa_active == false
	admin(r)
}

deny contains {"resource": r.id, "message": "administrator has a console password and no MFA device"} if {
	some r in lib.custodian("aws.iam-user")
	admin(r)
	r.config.LoginProfile
	count(object.get(r.config, "MFADevices", [])) == 0
}
