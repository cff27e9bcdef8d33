package demarc.rules.default_credentials

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP008",
	"title": "Default or well-known administrator credentials",
	"control": "default-credentials",
	"severity": "high",
}

default_users := {"admin", "root", "sa", "postgres", "administrator", "master", "user"}

weak_passwords := {"password", "admin", "changeme", "Password1", "123456", "root"}

user_field := {
	"aws_db_instance": "username",
	"aws_rds_cluster": "master_username",
	"aws_redshift_cluster": "master_username",
	"aws_docdb_cluster": "master_username",
	"azurerm_mssql_server": "administrator_login",
	"azurerm_postgresql_server": "administrator_login",
	"azurerm_mysql_flexible_server": "administrator_login",
}

pass_field := {
	"aws_db_instance": "password",
	"aws_rds_cluster": "master_password",
	"aws_redshift_cluster": "master_password",
	"aws_docdb_cluster": "master_password",
	"azurerm_mssql_server": "administrator_login_password",
	"google_sql_user": "password",
}

deny contains {"resource": r.id, "message": sprintf("administrator user is the default `%s`", [r.config[f]])} if {
	some t, f in user_field
	some r in lib.tf(t)
	default_users[lower(r.config[f])]
}

deny contains {"resource": r.id, "message": "administrator password is a well-known default"} if {
	some t, f in pass_field
	some r in lib.tf(t)
	weak_passwords[r.config[f]]
}

deny contains {"resource": r.id, "message": sprintf("master user is the default `%s`", [r.config.configuration.masterUsername])} if {
	some t in {"AWS::RDS::DBInstance", "AWS::RDS::DBCluster"}
	some r in lib.cfn(t)
	default_users[lower(r.config.configuration.masterUsername)]
}
