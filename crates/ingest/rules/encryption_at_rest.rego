package demarc.rules.encryption_at_rest

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP002",
	"title": "Encryption at rest is off",
	"control": "encryption-at-rest",
	"severity": "high",
}

tf_flags := {
	"aws_db_instance": "storage_encrypted",
	"aws_rds_cluster": "storage_encrypted",
	"aws_docdb_cluster": "storage_encrypted",
	"aws_neptune_cluster": "storage_encrypted",
	"aws_ebs_volume": "encrypted",
	"aws_efs_file_system": "encrypted",
	"aws_redshift_cluster": "encrypted",
}

deny contains {"resource": r.id, "message": sprintf("%s is not true", [flag])} if {
	some t, flag in tf_flags
	some r in lib.tf(t)
	not r.config[flag] == true
}

deny contains {"resource": r.id, "message": "infrastructure encryption is off and no customer key is set"} if {
	some r in lib.tf("azurerm_storage_account")
	r.config.infrastructure_encryption_enabled == false
	not r.config.customer_managed_key
	r.config.encryption_enabled == false
}

deny contains {"resource": r.id, "message": "DB instance storage is not encrypted"} if {
	some r in lib.cfn("AWS::RDS::DBInstance")
	r.config.configuration.storageEncrypted == false
}

deny contains {"resource": r.id, "message": "DB cluster storage is not encrypted"} if {
	some r in lib.cfn("AWS::RDS::DBCluster")
	r.config.configuration.storageEncrypted == false
}

deny contains {"resource": r.id, "message": "EBS volume is not encrypted"} if {
	some r in lib.cfn("AWS::EC2::Volume")
	r.config.configuration.encrypted == false
}
