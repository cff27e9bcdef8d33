//! Synthetic estates for benchmarks: realistic in shape (several clouds, an MSSP, expired and
//! live contracts, assignments at several specificities, tags, data classes), any size,
//! deterministic for a given seed.
//!
//! ```
//! let yaml = demarc_synth::yaml(100, 7);
//! let estate = demarc_model::load_sources(vec![("synth.yaml".into(), yaml)]).unwrap();
//! assert_eq!(estate.assets.len(), 100);
//! ```

use std::fmt::Write;

use demarc_catalog::Catalog;

/// A small deterministic PRNG (xorshift64*): benchmarks must not depend on a random crate's
/// algorithm changing between versions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const HEADER: &str = r#"version: 1
estate: synthetic
customer: acme
settings: {review_cadence: 90d, frameworks: [soc2, pci-dss]}
parties:
  acme:
    kind: customer
    name: Acme Synthetic
    teams:
      platform: {contact: platform@acme.example}
      dba: {contact: dba@acme.example}
      secops: {contact: secops@acme.example}
      appdev: {contact: appdev@acme.example}
      it: {contact: it@acme.example}
  aws:
    kind: provider
    name: Amazon Web Services
    attestations: [{framework: soc2, period_end: 2026-06-30}, {framework: pci-dss, expires: 2027-02-01}]
  microsoft:
    kind: provider
    name: Microsoft
    provides: [azure]
    attestations: [{framework: soc2, period_end: 2025-09-30}]
  google:
    kind: provider
    name: Google Cloud
    provides: [gcp]
  shieldco:
    kind: mssp
    name: ShieldCo
    contact: soc@shieldco.example
  oldcorp:
    kind: vendor
    name: Old DBA Consultancy
contracts:
  - id: shieldco-msa
    party: shieldco
    effective: 2026-01-01
    expires: 2027-01-01
    clauses:
      - {id: "4.1", text: 24x7 monitoring, scope: {env: prod}, duties: [monitor, respond], sla: {respond: 1h}}
      - {id: "4.2", text: OS patching, scope: {tags: {patch: shieldco}}, controls: [os-patching], duties: [patch], cadence: 30d}
  - id: oldcorp-dba
    party: oldcorp
    expires: 2026-06-30
    clauses:
      - {id: "1", text: database care, scope: {service: ["aws:rds", "azure:sql-database"]}, duties: [configure, patch]}
assignments:
  - {scope: {service: "aws:*"}, duties: [configure], to: acme/platform}
  - {scope: {service: "azure:*"}, duties: [configure, patch], to: acme/platform}
  - {scope: {data: [pci]}, controls: [access-review], duties: [audit], to: acme/secops}
  - {scope: {env: dev}, duties: [monitor, respond], to: acme/appdev}
  - {scope: {tags: {team: data}}, controls: [backup], to: acme/dba}
  - {scope: {service: "saas:*"}, to: acme/it}
  - {scope: {}, duties: [audit], to: acme/secops}
reviews: [{date: 2026-08-01, by: grc@acme.example}]
"#;

/// An estate of `assets` assets as YAML, deterministic for `seed`.
pub fn yaml(assets: usize, seed: u64) -> String {
    let mut out = String::with_capacity(HEADER.len() + assets * 110);
    out.push_str(HEADER);
    out.push_str("assets:\n");
    let mut rng = Rng::new(seed);
    each_asset(assets, &mut rng, |a| {
        let _ = write!(
            out,
            "  - {{id: a{:07}, service: \"{}\", env: {}, data: [{}], tags: {{team: {}",
            a.index,
            a.service,
            a.env,
            a.data.join(", "),
            a.team
        );
        if let Some(p) = a.patch {
            let _ = write!(out, ", patch: {p}");
        }
        out.push_str("}}\n");
    });
    evidence(assets, &mut rng, &mut out);
    out
}

/// The same estate as [`yaml`] (same seed, same assets, same evidence) as policy plus
/// inventory: `estate.yaml` without assets but with `inventory: [assets.jsonl]`, and the
/// assets as JSON Lines, one per line. Returns `(estate.yaml text, assets.jsonl text)`.
pub fn yaml_with_jsonl(assets: usize, seed: u64) -> (String, String) {
    let mut jsonl = String::with_capacity(assets * 120);
    let mut rng = Rng::new(seed);
    each_asset(assets, &mut rng, |a| {
        let _ = write!(
            jsonl,
            "{{\"id\":\"a{:07}\",\"service\":\"{}\",\"env\":\"{}\",\"data\":[",
            a.index, a.service, a.env
        );
        for (k, d) in a.data.iter().enumerate() {
            if k > 0 {
                jsonl.push(',');
            }
            let _ = write!(jsonl, "\"{d}\"");
        }
        let _ = write!(jsonl, "],\"tags\":{{\"team\":\"{}\"", a.team);
        if let Some(p) = a.patch {
            let _ = write!(jsonl, ",\"patch\":\"{p}\"");
        }
        jsonl.push_str("}}\n");
    });
    let mut estate = String::with_capacity(HEADER.len() + assets / 50 * 130 + 64);
    estate.push_str(HEADER);
    estate.push_str("inventory: [assets.jsonl]\n");
    evidence(assets, &mut rng, &mut estate);
    (estate, jsonl)
}

/// One generated asset.
struct Gen<'a> {
    index: usize,
    service: &'a str,
    env: &'a str,
    data: &'a [&'a str],
    team: &'a str,
    patch: Option<&'a str>,
}

/// Generates the assets in order, drawing from `rng` exactly as every format does.
fn each_asset(assets: usize, rng: &mut Rng, mut f: impl FnMut(Gen<'_>)) {
    let catalog = Catalog::builtin();
    let services: Vec<&str> = catalog.services.iter().map(|s| s.id.as_str()).collect();
    let envs = ["prod", "staging", "dev"];
    let data: [&[&str]; 5] = [&[], &["pii"], &["pci"], &["pii", "pci"], &["phi"]];
    let teams = ["web", "data", "ml", "core"];
    let patch = ["shieldco", "self", ""];
    for index in 0..assets {
        let service = rng.pick(&services);
        let env = rng.pick(&envs);
        let data = rng.pick(&data);
        let team = rng.pick(&teams);
        let p = rng.pick(&patch);
        f(Gen {
            index,
            service,
            env,
            data,
            team,
            patch: (!p.is_empty()).then_some(*p),
        });
    }
}

/// The evidence section, drawing from `rng` after the assets.
fn evidence(assets: usize, rng: &mut Rng, out: &mut String) {
    // Evidence for one asset in fifty, some of it stale.
    out.push_str("evidence:\n");
    let mut any = false;
    for i in (0..assets).step_by(50) {
        any = true;
        let day = 1 + rng.below(28);
        let _ = writeln!(
            out,
            "  - {{control: backup, asset: a{i:07}, ref: \"https://evidence.example/{i}\", collected: 2026-09-{day:02}, valid_for: 60d}}"
        );
    }
    if !any {
        out.truncate(out.len() - "evidence:\n".len());
    }
}

/// The same estate as [`yaml`], split the way teams split a big estate: `estate.yaml` with
/// the parties, contracts, rules and evidence, and the assets spread over `files` files
/// (`assets-000.yaml`, …). Returns (file name, text) pairs.
pub fn yaml_files(assets: usize, seed: u64, files: usize) -> Vec<(String, String)> {
    let whole = yaml(assets, seed);
    let start = whole
        .find("\nassets:\n")
        .map(|i| i + 1)
        .unwrap_or(whole.len());
    let body_start = (start + "assets:\n".len()).min(whole.len());
    let end = whole[body_start..]
        .find("\nevidence:\n")
        .map(|i| body_start + i + 1)
        .unwrap_or(whole.len());
    let mut head = whole[..start].to_string();
    head.push_str(&whole[end..]);
    let lines: Vec<&str> = whole[body_start..end].lines().collect();
    let files = files.max(1);
    let per = lines.len().div_ceil(files).max(1);
    let mut out = vec![("estate.yaml".to_string(), head)];
    for (i, chunk) in lines.chunks(per).enumerate() {
        let mut text = String::with_capacity(chunk.iter().map(|l| l.len() + 1).sum::<usize>() + 8);
        text.push_str("assets:\n");
        for l in chunk {
            text.push_str(l);
            text.push('\n');
        }
        out.push((format!("assets-{i:03}.yaml"), text));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn split_estate_is_the_same_estate() {
        let whole = demarc_model::load_sources(vec![("e.yaml".into(), super::yaml(250, 3))])
            .expect("whole loads");
        let parts = super::yaml_files(250, 3, 4)
            .into_iter()
            .map(|(n, t)| (n.into(), t))
            .collect();
        let split = demarc_model::load_sources(parts).expect("split loads");
        assert_eq!(split.assets.len(), 250);
        let ids = |e: &demarc_model::Estate| {
            let mut v: Vec<String> = e.assets.iter().map(|a| a.id.value.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(ids(&whole), ids(&split));
        assert_eq!(whole.evidence.len(), split.evidence.len());
        assert_eq!(whole.contracts.len(), split.contracts.len());
    }

    #[test]
    fn policy_plus_jsonl_inventory_is_the_same_estate() {
        let (estate, jsonl) = super::yaml_with_jsonl(300, 4);
        assert_eq!(
            super::yaml_with_jsonl(300, 4),
            (estate.clone(), jsonl.clone())
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("estate.yaml"), estate).unwrap();
        std::fs::write(dir.path().join("assets.jsonl"), jsonl).unwrap();
        let inv = demarc_model::load_path(
            &dir.path().join("estate.yaml"),
            &Default::default(),
            &mut demarc_model::Interner::new(),
        )
        .expect("policy + inventory loads");
        let whole = demarc_model::load_sources(vec![("e.yaml".into(), super::yaml(300, 4))])
            .expect("whole loads");
        assert_eq!(inv.assets.len(), 300);
        for (a, b) in inv.assets.iter().zip(&whole.assets) {
            assert_eq!(a.id, b.id);
            assert_eq!(a.service, b.service);
            assert_eq!(a.env, b.env);
            assert_eq!(a.data, b.data);
            assert_eq!(a.tags, b.tags);
        }
        assert_eq!(inv.evidence.len(), whole.evidence.len());
        assert_eq!(
            inv.evidence.iter().map(|e| e.collected).collect::<Vec<_>>(),
            whole
                .evidence
                .iter()
                .map(|e| e.collected)
                .collect::<Vec<_>>()
        );
    }
}
