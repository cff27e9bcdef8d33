//! Canonical JSON for hashing: object keys sorted by their UTF-16 code units (as RFC 8785
//! orders them), no whitespace, strings and numbers as serde_json writes them. Two processes,
//! or a verifier years later, get the same bytes for the same value whatever order the keys
//! were built in.

use serde_json::Value;

pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_at_every_depth_and_whitespace_is_dropped() {
        let v: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"z": [1, {"y": 2, "x": "é"}], "c": null}}"#)
                .unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":null,"z":[1,{"x":"é","y":2}]},"b":1}"#
        );
    }
}
