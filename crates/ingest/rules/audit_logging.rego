package demarc.rules.audit_logging

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP010",
	"title": "Audit logging is off",
	"control": "audit-logging",
	"severity": "medium",
}

deny contains {"resource": r.id, "message": "CloudTrail trail is not logging"} if {
	some r in lib.tf("aws_cloudtrail")
	r.config.enable_logging == false
}

deny contains {"resource": r.id, "message": "EKS control plane audit logs are off"} if {
	some r in lib.tf("aws_eks_cluster")
	not "audit" in object.get(r.config, "enabled_cluster_log_types", [])
}

deny contains {"resource": r.id, "message": "EKS control plane audit logs are off"} if {
	some r in lib.cfn("AWS::EKS::Cluster")
	not eks_audit(r.config.configuration)
}

eks_audit(c) if {
	some l in c.logging.clusterLogging
	l.enabled == true
	"audit" in l.types
}

deny contains {"resource": r.id, "message": "AKS cluster sends no logs to Log Analytics"} if {
	some r in lib.tf("azurerm_kubernetes_cluster")
	count(object.get(r.config, "oms_agent", [])) == 0
	count(object.get(r.config, "microsoft_defender", [])) == 0
}

deny contains {"resource": r.id, "message": "GKE logging is disabled"} if {
	some r in lib.tf("google_container_cluster")
	r.config.logging_service == "none"
}
