package demarc.rules.storage_logging

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP003",
	"title": "Storage access logging is off",
	"control": "storage-access-logging",
	"severity": "medium",
}

# Buckets a separate aws_s3_bucket_logging resource covers (by bucket name, where known).
logged := {b | some r in lib.tf("aws_s3_bucket_logging"); b := r.config.bucket}

deny contains {"resource": r.id, "message": "S3 bucket has no access logging"} if {
	some r in lib.tf("aws_s3_bucket")
	count(object.get(r.config, "logging", [])) == 0
	not logged[r.config.bucket]
}

deny contains {"resource": r.id, "message": "bucket has no access logging"} if {
	some r in lib.tf("google_storage_bucket")
	count(object.get(r.config, "logging", [])) == 0
}

deny contains {"resource": r.id, "message": "S3 bucket has no access logging"} if {
	some r in lib.cfn("AWS::S3::Bucket")
	cfg := json.unmarshal(r.config.supplementaryConfiguration.BucketLoggingConfiguration)
	not cfg.destinationBucketName
}
