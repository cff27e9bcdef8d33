package demarc.rules.backups

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP009",
	"title": "Backups or point-in-time recovery off on a managed database",
	"control": "backup",
	"severity": "medium",
}

deny contains {"resource": r.id, "message": "automated backups are off (backup_retention_period = 0)"} if {
	some t in {"aws_db_instance", "aws_rds_cluster", "aws_docdb_cluster", "aws_neptune_cluster"}
	some r in lib.tf(t)
	r.config.backup_retention_period == 0
}

deny contains {"resource": r.id, "message": "point-in-time recovery is off"} if {
	some r in lib.tf("aws_dynamodb_table")
	not pitr(r.config)
}

pitr(c) if {
	some p in c.point_in_time_recovery
	p.enabled == true
}

deny contains {"resource": r.id, "message": "backups are off"} if {
	some r in lib.tf("google_sql_database_instance")
	some s in r.config.settings
	some b in s.backup_configuration
	b.enabled == false
}

deny contains {"resource": r.id, "message": "automated backups are off"} if {
	some t in {"AWS::RDS::DBInstance", "AWS::RDS::DBCluster"}
	some r in lib.cfn(t)
	r.config.configuration.backupRetentionPeriod == 0
}

deny contains {"resource": r.id, "message": "point-in-time recovery is off"} if {
	some r in lib.cfn("AWS::DynamoDB::Table")
	cb := r.config.supplementaryConfiguration.ContinuousBackupsDescription
	cb.pointInTimeRecoveryDescription.pointInTimeRecoveryStatus == "DISABLED"
}
