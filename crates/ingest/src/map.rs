//! From a source's own record to a [`ResourceV1`]: stable id, type, account, region, tags and
//! raw configuration, per format. Which catalog service a type stands for is decided by the
//! catalog's `resource_types` data alone ([`TypeIndex`]).

use std::collections::{BTreeMap, HashMap};

use demarc_api::ResourceV1;
use demarc_catalog::{Catalog, ResourceFormat};
use serde_json::{Map, Value};

use crate::read::Item;

/// Resource type → catalog service, from every service's `resource_types`.
pub struct TypeIndex {
    map: HashMap<(ResourceFormat, String), String>,
}

impl TypeIndex {
    pub fn new(catalog: &Catalog) -> Self {
        let mut map = HashMap::new();
        for s in &catalog.services {
            if s.mode.is_some() {
                continue;
            }
            for (format, types) in &s.resource_types {
                for t in types {
                    map.entry((*format, norm(*format, t)))
                        .or_insert_with(|| s.id.clone());
                }
            }
        }
        TypeIndex { map }
    }

    /// The catalog service for a type in a format (`arm` types compare case-insensitively,
    /// as Azure Resource Graph lowercases them).
    pub fn service(&self, format: &str, ty: &str) -> Option<&str> {
        let f = ResourceFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == format)?;
        self.map.get(&(f, norm(f, ty))).map(String::as_str)
    }
}

fn norm(f: ResourceFormat, t: &str) -> String {
    if f == ResourceFormat::Arm {
        t.to_ascii_lowercase()
    } else {
        t.to_string()
    }
}

/// The input format names shown to users.
pub const TERRAFORM_PLAN: &str = "terraform-plan";
pub const TERRAFORM_STATE: &str = "terraform-state";
pub const AWS_CONFIG: &str = "aws-config";
pub const AZURE_GRAPH: &str = "azure-resource-graph";
pub const CLOUD_ASSET: &str = "cloud-asset-inventory";
pub const KUBERNETES: &str = "kubernetes";
pub const CUSTODIAN: &str = "custodian";
pub const CSV: &str = "csv";
pub const JSONL: &str = "jsonl";

fn s(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Tags from an object (`{"k": "v"}`) or a list of `{key|Key, value|Value}`.
fn tags_of(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match v {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                out.insert(k.clone(), scalar(v));
            }
        }
        Some(Value::Array(list)) => {
            for t in list {
                let k = t.get("key").or_else(|| t.get("Key"));
                let v = t.get("value").or_else(|| t.get("Value"));
                if let Some(Value::String(k)) = k {
                    out.insert(k.clone(), v.map(scalar).unwrap_or_default());
                }
            }
        }
        _ => {}
    }
    out
}

/// `(region, account)` from an ARN.
fn arn_parts(arn: &str) -> (Option<String>, Option<String>) {
    let mut p = arn.splitn(6, ':');
    if p.next() != Some("arn") {
        return (None, None);
    }
    let _partition = p.next();
    let _service = p.next();
    let region = p.next().filter(|r| !r.is_empty()).map(str::to_string);
    let account = p.next().filter(|a| !a.is_empty()).map(str::to_string);
    (region, account)
}

fn resource(id: String, ty: String, format: &str, source: &str, config: Value) -> ResourceV1 {
    ResourceV1 {
        asset: String::new(),
        id,
        resource_type: ty,
        format: format.to_string(),
        source: source.to_string(),
        service: None,
        provider: None,
        external_id: None,
        account: None,
        region: None,
        tags: BTreeMap::new(),
        config,
    }
}

/// `registry.terraform.io/hashicorp/aws` → `aws`; else the type's prefix.
fn tf_provider(provider_name: Option<&str>, ty: &str) -> Option<String> {
    provider_name
        .and_then(|p| p.rsplit('/').next())
        .map(|p| p.trim_end_matches(']').trim_end_matches('"').to_string())
        .filter(|p| !p.is_empty() && !p.contains('['))
        .or_else(|| ty.split('_').next().map(str::to_string))
}

/// A Terraform resource from its address, type and attribute values.
fn terraform(
    address: String,
    ty: String,
    provider: Option<String>,
    values: Value,
    source: &str,
) -> ResourceV1 {
    let mut r = resource(address, ty, "terraform", source, Value::Null);
    let arn = s(&values, "arn");
    let own_id = s(&values, "id");
    if let Some(a) = &arn {
        let (region, account) = arn_parts(a);
        r.region = region;
        r.account = account;
    }
    r.region = r
        .region
        .or_else(|| s(&values, "region"))
        .or_else(|| s(&values, "location"));
    r.account = r
        .account
        .or_else(|| s(&values, "project"))
        .or_else(|| s(&values, "subscription_id"));
    r.external_id = arn.or(own_id);
    r.tags = tags_of(
        values
            .get("tags")
            .filter(|t| t.is_object())
            .or_else(|| values.get("tags_all"))
            .or_else(|| values.get("labels")),
    );
    r.provider = provider;
    r.config = values;
    r
}

/// What an item of a walk becomes: zero or more resources, or a message for a record that
/// is not one this reader understands.
pub fn resources(item: Item, custodian_type: Option<&str>) -> Result<Vec<ResourceV1>, String> {
    Ok(match item {
        Item::TfModuleResource(v) => {
            if s(&v, "mode").as_deref() == Some("data") {
                return Ok(vec![]);
            }
            let (Some(address), Some(ty)) = (s(&v, "address"), s(&v, "type")) else {
                return Err("a Terraform resource without `address` and `type`".into());
            };
            let provider = tf_provider(v.get("provider_name").and_then(Value::as_str), &ty);
            let mut v = v;
            let values = v.get_mut("values").map(Value::take).unwrap_or(Value::Null);
            vec![terraform(address, ty, provider, values, TERRAFORM_PLAN)]
        }
        Item::TfChange(v) => {
            if s(&v, "mode").as_deref() == Some("data") {
                return Ok(vec![]);
            }
            let (Some(address), Some(ty)) = (s(&v, "address"), s(&v, "type")) else {
                return Err("a Terraform resource change without `address` and `type`".into());
            };
            let actions: Vec<&str> = v
                .pointer("/change/actions")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if actions == ["delete"] {
                return Ok(vec![]);
            }
            let provider = tf_provider(v.get("provider_name").and_then(Value::as_str), &ty);
            let mut v = v;
            let after = v
                .pointer_mut("/change/after")
                .map(Value::take)
                .unwrap_or(Value::Null);
            vec![terraform(address, ty, provider, after, TERRAFORM_PLAN)]
        }
        Item::TfStateResource(v) => {
            if s(&v, "mode").as_deref() == Some("data") {
                return Ok(vec![]);
            }
            let (Some(ty), Some(name)) = (s(&v, "type"), s(&v, "name")) else {
                return Err("a Terraform state resource without `type` and `name`".into());
            };
            let module = s(&v, "module").map(|m| format!("{m}.")).unwrap_or_default();
            let provider = tf_provider(v.get("provider").and_then(Value::as_str), &ty);
            let mut out = Vec::new();
            if let Some(Value::Array(instances)) = v.get("instances") {
                for inst in instances {
                    let key = match inst.get("index_key") {
                        Some(Value::String(k)) => format!("[\"{k}\"]"),
                        Some(Value::Number(n)) => format!("[{n}]"),
                        _ => String::new(),
                    };
                    let address = format!("{module}{ty}.{name}{key}");
                    let attrs = inst.get("attributes").cloned().unwrap_or(Value::Null);
                    out.push(terraform(
                        address,
                        ty.clone(),
                        provider.clone(),
                        attrs,
                        TERRAFORM_STATE,
                    ));
                }
            }
            out
        }
        Item::ConfigItem(v) => {
            let v = match v {
                Value::String(text) => serde_json::from_str(&text)
                    .map_err(|e| format!("an AWS Config result that is not JSON: {e}"))?,
                v => v,
            };
            aws_config(v)?.into_iter().collect()
        }
        Item::K8s(v) => {
            let kind = s(&v, "kind").unwrap_or_default();
            let meta = v.get("metadata").cloned().unwrap_or(Value::Null);
            let Some(name) = s(&meta, "name") else {
                return Err("a Kubernetes object without `metadata.name`".into());
            };
            let id = match s(&meta, "namespace") {
                Some(ns) => format!("{kind}/{ns}/{name}"),
                None => format!("{kind}/{name}"),
            };
            let mut r = resource(id, kind, "kubernetes", KUBERNETES, Value::Null);
            r.external_id = s(&meta, "uid");
            r.tags = tags_of(meta.get("labels"));
            r.provider = Some("kubernetes".into());
            r.config = v;
            vec![r]
        }
        Item::Element(v) | Item::Line(v) => element(v, custodian_type)?.into_iter().collect(),
        Item::Csv(row) => {
            let mut obj = Map::new();
            for (k, v) in row {
                if v.is_empty() {
                    continue;
                }
                let val = match k.as_str() {
                    "data" => Value::Array(
                        v.split(';')
                            .filter(|x| !x.is_empty())
                            .map(|x| Value::String(x.trim().into()))
                            .collect(),
                    ),
                    "tags" => {
                        let mut m = Map::new();
                        for kv in v.split(';').filter(|x| !x.is_empty()) {
                            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                            m.insert(k.trim().into(), Value::String(v.trim().into()));
                        }
                        Value::Object(m)
                    }
                    _ => Value::String(v),
                };
                obj.insert(k, val);
            }
            demarc_row(Value::Object(obj), CSV)?.into_iter().collect()
        }
    })
}

/// An AWS Config configuration item; `None` for a deleted or unrecorded resource.
fn aws_config(v: Value) -> Result<Option<ResourceV1>, String> {
    if matches!(
        s(&v, "configurationItemStatus").as_deref(),
        Some("ResourceDeleted" | "ResourceDeletedNotRecorded" | "ResourceNotRecorded")
    ) {
        return Ok(None);
    }
    let ty = s(&v, "resourceType").unwrap_or_default();
    let config = v.get("configuration");
    let arn = s(&v, "arn")
        .or_else(|| s(&v, "ARN"))
        .or_else(|| config.and_then(|c| s(c, "arn").or_else(|| s(c, "Arn"))));
    let id = arn.clone().or_else(|| s(&v, "resourceId"));
    let Some(id) = id else {
        // Without any id it cannot be an asset; the caller counts it.
        return Ok(Some(resource(
            String::new(),
            ty,
            "cloudformation",
            AWS_CONFIG,
            v,
        )));
    };
    let mut r = resource(id, ty, "cloudformation", AWS_CONFIG, Value::Null);
    if let Some(a) = &arn {
        let (region, account) = arn_parts(a);
        r.region = region;
        r.account = account;
    }
    r.region = s(&v, "awsRegion").or(r.region);
    r.account = s(&v, "accountId").or(r.account);
    r.external_id = s(&v, "resourceId").or(arn);
    r.tags = tags_of(
        v.get("tags")
            .filter(|t| t.as_object().is_some_and(|m| !m.is_empty()))
            .or_else(|| config.and_then(|c| c.get("tags").or_else(|| c.get("Tags")))),
    );
    r.provider = Some("aws".into());
    let mut cfg = Map::new();
    cfg.insert(
        "configuration".into(),
        config.cloned().unwrap_or(Value::Null),
    );
    if let Some(sc) = v.get("supplementaryConfiguration") {
        cfg.insert("supplementaryConfiguration".into(), sc.clone());
    }
    r.config = Value::Object(cfg);
    Ok(Some(r))
}

/// A row of demarc's own inventory format (JSON Lines or CSV): it names its service.
fn demarc_row(v: Value, source: &str) -> Result<Option<ResourceV1>, String> {
    let (Some(id), Some(service)) = (s(&v, "id"), s(&v, "service")) else {
        return Err("a demarc inventory row needs `id` and `service`".into());
    };
    let mut r = resource(id, service.clone(), "demarc", source, Value::Null);
    r.service = Some(service);
    r.external_id = s(&v, "external_id");
    r.account = s(&v, "account");
    r.region = s(&v, "region");
    r.tags = tags_of(v.get("tags"));
    r.config = v;
    Ok(Some(r))
}

/// An element of an array or a JSON line, told apart by its fields.
fn element(v: Value, custodian_type: Option<&str>) -> Result<Option<ResourceV1>, String> {
    if !v.is_object() {
        return Err(format!(
            "expected an object for each resource, found {}",
            match &v {
                Value::String(_) => "a string",
                Value::Array(_) => "an array",
                _ => "a scalar",
            }
        ));
    }
    // Google Cloud Asset Inventory: {name, assetType, resource: {data, location, parent}}.
    if let (Some(name), Some(ty)) = (s(&v, "name"), s(&v, "assetType")) {
        let res = v.get("resource");
        let data = res.and_then(|r| r.get("data"));
        let mut r = resource(name, ty, "cai", CLOUD_ASSET, Value::Null);
        r.region = res.and_then(|x| s(x, "location"));
        r.account = v
            .get("ancestors")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .find(|x| x.starts_with("projects/"))
            })
            .map(str::to_string)
            .or_else(|| res.and_then(|x| s(x, "parent")));
        r.external_id = data.and_then(|d| s(d, "selfLink").or_else(|| s(d, "id")));
        r.tags = tags_of(data.and_then(|d| d.get("labels")));
        r.provider = Some("google".into());
        r.config = data.cloned().unwrap_or(Value::Null);
        return Ok(Some(r));
    }
    // Azure Resource Graph: {id: /subscriptions/…, type: microsoft.x/y, location, tags}.
    if let (Some(id), Some(ty)) = (s(&v, "id"), s(&v, "type"))
        && id.starts_with('/')
        && ty.contains('/')
    {
        let mut r = resource(id.clone(), ty, "arm", AZURE_GRAPH, Value::Null);
        r.region = s(&v, "location");
        r.account = s(&v, "subscriptionId").or_else(|| {
            id.split('/')
                .skip_while(|p| !p.eq_ignore_ascii_case("subscriptions"))
                .nth(1)
                .map(str::to_string)
        });
        r.external_id = Some(id);
        r.tags = tags_of(v.get("tags"));
        r.provider = Some("azurerm".into());
        r.config = v;
        return Ok(Some(r));
    }
    if s(&v, "service").is_some() && s(&v, "id").is_some() {
        return demarc_row(v, JSONL);
    }
    // Cloud Custodian: resources of one policy's resource type.
    let Some(ty) = custodian_type else {
        return Err(
            "a resource of unknown format: not a Cloud Asset (`name`, `assetType`), an Azure Resource Graph row (`id`, `type`) or a demarc row (`id`, `service`); for Cloud Custodian `resources.json`, put its `metadata.json` beside it or pass --custodian-type".into(),
        );
    };
    let arn = ["Arn", "arn", "ARN"].iter().find_map(|k| s(&v, k));
    let id = arn
        .clone()
        .or_else(|| s(&v, "id"))
        .or_else(|| {
            [
                "InstanceId",
                "DBInstanceIdentifier",
                "DBClusterIdentifier",
                "FunctionName",
                "UserName",
                "RoleName",
                "GroupId",
                "VolumeId",
                "KeyId",
                "Name",
                "name",
                "selfLink",
            ]
            .iter()
            .find_map(|k| s(&v, k))
        })
        .unwrap_or_default();
    let mut r = resource(id, ty.to_string(), "custodian", CUSTODIAN, Value::Null);
    if let Some(a) = &arn {
        let (region, account) = arn_parts(a);
        r.region = region;
        r.account = account;
    }
    r.region = r.region.or_else(|| s(&v, "location"));
    r.external_id = arn;
    r.tags = tags_of(
        v.get("Tags")
            .or_else(|| v.get("tags"))
            .or_else(|| v.get("labels")),
    );
    r.provider = ty.split('.').next().map(str::to_string);
    r.config = v;
    Ok(Some(r))
}
