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
    let catalog = Catalog::builtin();
    let services: Vec<&str> = catalog.services.iter().map(|s| s.id.as_str()).collect();
    let envs = ["prod", "staging", "dev"];
    let data: [&str; 5] = ["", "pii", "pci", "pii, pci", "phi"];
    let teams = ["web", "data", "ml", "core"];
    let patch = ["shieldco", "self", ""];
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(HEADER.len() + assets * 110);
    out.push_str(HEADER);
    out.push_str("assets:\n");
    for i in 0..assets {
        let svc = rng.pick(&services);
        let env = rng.pick(&envs);
        let d = rng.pick(&data);
        let team = rng.pick(&teams);
        let p = rng.pick(&patch);
        let _ = write!(
            out,
            "  - {{id: a{i:07}, service: \"{svc}\", env: {env}, data: [{d}], tags: {{team: {team}"
        );
        if !p.is_empty() {
            let _ = write!(out, ", patch: {p}");
        }
        out.push_str("}}\n");
    }
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
    out
}
