package demarc.rules.public_storage

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP001",
	"title": "Storage bucket or container readable by the public",
	"control": "public-access-blocking",
	"severity": "high",
}

public_acls := {"public-read", "public-read-write"}

deny contains {"resource": r.id, "message": sprintf("S3 bucket ACL is %s", [r.config.acl])} if {
	some r in lib.tf("aws_s3_bucket")
	public_acls[r.config.acl]
}

deny contains {"resource": r.id, "message": sprintf("S3 bucket ACL is %s", [r.config.acl])} if {
	some r in lib.tf("aws_s3_bucket_acl")
	public_acls[r.config.acl]
}

deny contains {"resource": r.id, "message": "storage account allows public blob access"} if {
	some r in lib.tf("azurerm_storage_account")
	r.config.allow_nested_items_to_be_public == true
}

deny contains {"resource": r.id, "message": "storage account allows public blob access"} if {
	some r in lib.tf("azurerm_storage_account")
	r.config.allow_blob_public_access == true
}

deny contains {"resource": r.id, "message": sprintf("container access type is %s", [r.config.container_access_type])} if {
	some r in lib.tf("azurerm_storage_container")
	r.config.container_access_type in {"blob", "container"}
}

deny contains {"resource": r.id, "message": sprintf("bucket IAM grants %s", [r.config.member])} if {
	some r in lib.tf("google_storage_bucket_iam_member")
	r.config.member in {"allUsers", "allAuthenticatedUsers"}
}

deny contains {"resource": r.id, "message": sprintf("bucket IAM grants %s", [m])} if {
	some r in lib.tf("google_storage_bucket_iam_binding")
	some m in r.config.members
	m in {"allUsers", "allAuthenticatedUsers"}
}

deny contains {"resource": r.id, "message": "storage account allows public blob access"} if {
	some r in lib.arm("microsoft.storage/storageaccounts")
	r.config.properties.allowBlobPublicAccess == true
}

deny contains {"resource": r.id, "message": "S3 bucket's public access block is off and its ACL grants AllUsers"} if {
	some r in lib.cfn("AWS::S3::Bucket")
	acl := json.unmarshal(r.config.supplementaryConfiguration.AccessControlList)
	some g in acl.grantList
	g.grantee == "AllUsers"
}
