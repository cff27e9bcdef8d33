package demarc.rules.key_rotation

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP006",
	"title": "Key rotation is off",
	"control": "key-rotation",
	"severity": "medium",
}

symmetric(r) if not r.config.customer_master_key_spec

symmetric(r) if r.config.customer_master_key_spec == "SYMMETRIC_DEFAULT"

deny contains {"resource": r.id, "message": "KMS key rotation is not enabled"} if {
	some r in lib.tf("aws_kms_key")
	symmetric(r)
	not r.config.enable_key_rotation == true
}

deny contains {"resource": r.id, "message": "crypto key has no rotation period"} if {
	some r in lib.tf("google_kms_crypto_key")
	not r.config.rotation_period
}

deny contains {"resource": r.id, "message": "key vault key has no rotation policy"} if {
	some r in lib.tf("azurerm_key_vault_key")
	count(object.get(r.config, "rotation_policy", [])) == 0
}

deny contains {"resource": r.id, "message": "KMS key rotation is not enabled"} if {
	some r in lib.custodian("aws.kms-key")
	r.config.KeyRotationEnabled == false
}
