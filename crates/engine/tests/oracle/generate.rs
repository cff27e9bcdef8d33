//! Generated estates for the differential and property tests, written as YAML text the way
//! users write them, split across several files given in a shuffled order.
//!
//! Every estate has: a customer whose key varies, overrides (some expired, some to the
//! `provider` keyword), contracts with future `effective` dates and clause-level expiry,
//! `performed_by` subcontractors, `runs_on` chains (long ones, never a circle), assets with
//! tags, env, data and their own provider, an unknown service, and deliberate ties: twin
//! rules of equal specificity that name a different owner, or the same owner with a
//! different `split`, or the same owner under a different scope.

use demarc_synth::Rng;

pub const AS_OF: &str = "2026-11-23";
/// Before, on, just after, and well after the as-of date.
const DATES: [&str; 4] = ["2026-06-30", "2026-11-23", "2026-11-24", "2027-06-30"];
const SERVICES: [&str; 7] = [
    "aws:ec2",
    "aws:rds",
    "aws:s3",
    "saas:payflow",
    "saas:github",
    "iaas",
    "onprem:mystery",
];
/// Controls rules name; a small set so that rules collide.
pub const CONTROLS: [&str; 10] = [
    "os-patching",
    "backup",
    "incident-response",
    "security-monitoring",
    "access-review",
    "physical-access",
    "mfa",
    "key-management",
    "encryption-at-rest",
    "hardware-maintenance",
];
const DUTIES: [&str; 5] = ["configure", "patch", "monitor", "respond", "audit"];

/// An estate, as lists of YAML entries that tests can edit before rendering.
#[derive(Debug, Clone)]
pub struct Spec {
    pub customer: String,
    pub parties: String,
    pub assets: Vec<String>,
    pub asset_ids: Vec<String>,
    /// Whole `- id: ...` blocks, indented for the `contracts:` list.
    pub contracts: Vec<String>,
    pub assignments: Vec<String>,
    /// Overrides as (entry without reason, reason).
    pub overrides: Vec<(String, String)>,
    pub files: usize,
    pub shuffle: u64,
    pub prefix: String,
}

fn chance(r: &mut Rng, pct: usize) -> bool {
    r.below(100) < pct
}

fn some_of<'a>(r: &mut Rng, items: &[&'a str], max: usize) -> Vec<&'a str> {
    let n = 1 + r.below(max);
    let mut v: Vec<&str> = (0..n).map(|_| *r.pick(items)).collect();
    v.sort();
    v.dedup();
    v
}

fn list(items: &[&str]) -> String {
    format!("[{}]", items.join(", "))
}

fn scope(r: &mut Rng, ids: &[String]) -> String {
    let mut parts = Vec::new();
    if chance(r, 30) {
        parts.push(format!(
            "service: {}",
            r.pick(&[
                "aws:ec2",
                "[aws:rds, aws:s3]",
                "\"aws:*\"",
                "\"saas:*\"",
                "saas:payflow",
                "iaas",
                "\"*\"",
            ])
        ));
    }
    if chance(r, 30) {
        parts.push(format!(
            "env: {}",
            r.pick(&["prod", "\"p*\"", "[dev, staging]"])
        ));
    }
    if chance(r, 20) {
        parts.push(format!("data: {}", r.pick(&["[pii]", "[pci, phi]"])));
    }
    if chance(r, 25) {
        parts.push(format!(
            "tags: {}",
            r.pick(&["{owner: db}", "{owner: web, tier: gold}", "{tier: gold}"])
        ));
    }
    if chance(r, 12) {
        let a = r.pick(ids).clone();
        let b = r.pick(ids).clone();
        if a == b {
            parts.push(format!("assets: [{a}]"));
        } else {
            parts.push(format!("assets: [{a}, {b}]"));
        }
    }
    format!("{{{}}}", parts.join(", "))
}

fn cover(r: &mut Rng) -> String {
    let mut s = String::new();
    if chance(r, 55) {
        s.push_str(&format!(", controls: {}", list(&some_of(r, &CONTROLS, 2))));
    }
    if chance(r, 50) {
        s.push_str(&format!(", duties: {}", list(&some_of(r, &DUTIES, 2))));
    }
    s
}

/// `to` and `split` for an assignment.
fn assignment_to(r: &mut Rng, c: &str) -> (Vec<String>, String) {
    let to: Vec<String> = match r.below(7) {
        0 => vec![format!("{c}/platform")],
        1 => vec![format!("{c}/dba")],
        2 => vec![format!("{c}/secops")],
        3 => vec![c.to_string()],
        4 => vec!["shieldco".into()],
        5 => vec!["nightwatch".into()],
        _ => vec![format!("{c}/platform"), "shieldco".into()],
    };
    (to.clone(), split(r, &to))
}

fn split(r: &mut Rng, to: &[String]) -> String {
    let n = r.below(100);
    let written: Vec<&String> = if n < 40 {
        to.iter().collect()
    } else if n < 55 {
        to.iter().take(1).collect()
    } else {
        Vec::new()
    };
    if written.is_empty() {
        return String::new();
    }
    let words = ["writes rules", "tunes alerts", "runs it", "reviews it"];
    let body: Vec<String> = written
        .iter()
        .map(|t| format!("{t}: {}", r.pick(&words)))
        .collect();
    format!(", split: {{{}}}", body.join(", "))
}

fn to_text(to: &[String]) -> String {
    if to.len() == 1 {
        to[0].clone()
    } else {
        format!("[{}]", to.join(", "))
    }
}

/// A scope of the same specificity as `env: prod` (a different one, so same-named rules
/// with different scopes tie).
const SAME_SPEC_SCOPES: [&str; 3] = ["{env: prod}", "{data: [pii]}", "{tags: {tier: gold}}"];

pub fn spec(seed: u64) -> Spec {
    let r = &mut Rng::new(seed);
    let customer = r.pick(&["acme", "globex", "initech"]).to_string();
    let c = customer.as_str();

    // Parties, with `runs_on` chains of several hops.
    let mut parties = format!(
        "parties:\n  {c}: {{kind: customer, name: Cust, teams: {{platform: {{}}, dba: {{}}, secops: {{}}}}}}\n"
    );
    let aws_runs = if chance(r, 50) {
        ", runs_on: [{party: colo, layers: [physical-datacenter]}]"
    } else {
        ""
    };
    parties.push_str(&format!("  aws: {{kind: provider, name: AWS{aws_runs}}}\n"));
    let colo_runs = if chance(r, 30) {
        ", runs_on: [{party: hostco}]"
    } else {
        ""
    };
    parties.push_str(&format!(
        "  colo: {{kind: provider, name: Colo{colo_runs}}}\n"
    ));
    let payflow_runs = match r.below(3) {
        0 => "",
        1 => ", runs_on: [{party: aws}]",
        _ => ", runs_on: [{party: aws, layers: [physical-host, network-controls]}]",
    };
    parties.push_str(&format!(
        "  payflow: {{kind: provider, name: PayFlow{payflow_runs}}}\n"
    ));
    // A chain may be long but never closes into a circle (aws → colo → hostco → payflow →
    // aws), which validation rejects; the roll is always taken so seeds keep their estates.
    let hostco_roll = chance(r, 50);
    let hostco_runs = if hostco_roll && colo_runs.is_empty() {
        ", runs_on: [{party: payflow, layers: [physical-host, physical-datacenter]}]"
    } else {
        ""
    };
    parties.push_str(&format!(
        "  hostco: {{kind: provider, name: HostCo{hostco_runs}}}\n"
    ));
    parties.push_str("  shieldco: {kind: mssp, name: ShieldCo}\n  nightwatch: {kind: vendor, name: NightWatch}\n");

    // Assets.
    let n = 1 + r.below(7);
    let asset_ids: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    let mut assets = Vec::new();
    for id in &asset_ids {
        let service = *r.pick(&SERVICES);
        let mut s = format!("{{id: {id}, service: \"{service}\"");
        if let Some(env) = *r.pick(&[Some("prod"), Some("dev"), Some("staging"), None]) {
            s.push_str(&format!(", env: {env}"));
        }
        s.push_str(&format!(
            ", data: {}",
            r.pick(&["[]", "[pii]", "[pci]", "[pii, phi]"])
        ));
        let owner = *r.pick(&[Some("db"), Some("web"), None]);
        let tier = *r.pick(&[Some("gold"), None]);
        let tags: Vec<String> = [("owner", owner), ("tier", tier)]
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}: {v}")))
            .collect();
        s.push_str(&format!(", tags: {{{}}}", tags.join(", ")));
        let provider = if service == "iaas" {
            *r.pick(&[Some("aws"), Some("hostco"), None])
        } else if chance(r, 10) {
            Some("payflow")
        } else {
            None
        };
        if let Some(p) = provider {
            s.push_str(&format!(", provider: {p}"));
        }
        s.push('}');
        assets.push(s);
    }

    // Assignments, with twins that tie.
    let mut assignments = Vec::new();
    for _ in 0..r.below(9) {
        let sc = scope(r, &asset_ids);
        let cv = cover(r);
        let (to, sp) = assignment_to(r, c);
        assignments.push(format!("{{scope: {sc}{cv}, to: {}{sp}}}", to_text(&to)));
        if chance(r, 40) {
            match r.below(3) {
                // Same scope, a different owner: contested.
                0 => {
                    let (to2, sp2) = assignment_to(r, c);
                    assignments.push(format!("{{scope: {sc}{cv}, to: {}{sp2}}}", to_text(&to2)));
                }
                // Same owner, different split text.
                1 => {
                    let sp2 = split(r, &to);
                    assignments.push(format!("{{scope: {sc}{cv}, to: {}{sp2}}}", to_text(&to)));
                }
                // Same name, a different scope of equal specificity.
                _ => {
                    let a = *r.pick(&SAME_SPEC_SCOPES);
                    let b = *r.pick(&SAME_SPEC_SCOPES);
                    let sp2 = split(r, &to);
                    assignments.push(format!("{{scope: {a}{cv}, to: {}{sp}}}", to_text(&to)));
                    assignments.push(format!("{{scope: {b}{cv}, to: {}{sp2}}}", to_text(&to)));
                }
            }
        }
    }

    // Overrides, some expired, some to the provider.
    let mut overrides = Vec::new();
    for _ in 0..r.below(4) {
        let sc = scope(r, &asset_ids);
        let cv = cover(r);
        let to: Vec<String> = match r.below(4) {
            0 => vec!["provider".into()],
            1 => vec![format!("{c}/dba")],
            2 => vec!["provider".into(), format!("{c}/platform")],
            _ => vec!["shieldco".into()],
        };
        let sp = split(r, &to);
        let exp = if chance(r, 45) {
            format!(", expires: {}", r.pick(&DATES))
        } else {
            String::new()
        };
        let entry = format!("scope: {sc}{cv}, to: {}{sp}{exp}", to_text(&to));
        overrides.push((entry.clone(), format!("reason {}", r.below(1000))));
        if chance(r, 30) {
            let to2 = if to.len() == 1 && to[0] == "provider" {
                format!("{c}/secops")
            } else {
                "provider".into()
            };
            let entry2 = format!("scope: {sc}{cv}, to: {to2}");
            overrides.push((entry2, "a rival".into()));
        }
    }

    // Contracts with clause-level expiry, future effective dates, subcontractors.
    let mut contracts = Vec::new();
    for k in 0..r.below(3) {
        let party = *r.pick(&["shieldco", "nightwatch"]);
        let other = if party == "shieldco" {
            "nightwatch"
        } else {
            "shieldco"
        };
        let mut block = format!("  - id: c{k}\n    party: {party}\n");
        let eff = chance(r, 30).then(|| r.below(DATES.len()));
        let exp = chance(r, 40).then(|| r.below(DATES.len()));
        let (eff, exp) = match (eff, exp) {
            (Some(a), Some(b)) if b < a => (Some(b), Some(a)),
            x => x,
        };
        if let Some(e) = eff {
            block.push_str(&format!("    effective: {}\n", DATES[e]));
        }
        if let Some(e) = exp {
            block.push_str(&format!("    expires: {}\n", DATES[e]));
        }
        block.push_str("    clauses:\n");
        for id in 0..1 + r.below(3) {
            let sc = scope(r, &asset_ids);
            let cv = cover(r);
            let mut cl = format!("      - {{id: \"{id}\", text: clause {id}, scope: {sc}{cv}");
            if chance(r, 30) {
                cl.push_str(&format!(
                    ", sla: {}",
                    r.pick(&["{respond: 1h}", "{patch: 7d, monitor: 15m}"])
                ));
            }
            if chance(r, 20) {
                cl.push_str(", cadence: 30d");
            }
            if chance(r, 30) {
                cl.push_str(&format!(", expires: {}", r.pick(&DATES)));
            }
            if chance(r, 25) {
                cl.push_str(&format!(", performed_by: {other}"));
            }
            cl.push_str("}\n");
            block.push_str(&cl);
        }
        contracts.push(block);
    }

    Spec {
        customer,
        parties,
        assets,
        asset_ids,
        contracts,
        assignments,
        overrides,
        files: 1 + r.below(4),
        shuffle: r.next_u64(),
        prefix: "part".into(),
    }
}

impl Spec {
    /// The estate's files, lists dealt round-robin across `files` files, in a shuffled order.
    pub fn render(&self) -> Vec<(std::path::PathBuf, String)> {
        let k = self.files.max(1);
        let mut bodies: Vec<String> = vec![String::new(); k];
        bodies[0].push_str(&format!(
            "version: 1\nestate: generated\ncustomer: {}\nreviews: [{{date: 2026-08-01, by: x}}]\n",
            self.customer
        ));
        bodies[k - 1].push_str(&self.parties);
        bodies[k / 2].push_str("services:\n  \"saas:payflow\": {model: saas, provider: payflow}\n");
        let deal = |bodies: &mut Vec<String>, key: &str, items: Vec<String>| {
            let mut per: Vec<Vec<String>> = vec![Vec::new(); k];
            for (i, it) in items.into_iter().enumerate() {
                per[i % k].push(it);
            }
            for (b, items) in bodies.iter_mut().zip(per) {
                if !items.is_empty() {
                    b.push_str(&format!("{key}:\n{}", items.concat()));
                }
            }
        };
        deal(
            &mut bodies,
            "assets",
            self.assets.iter().map(|a| format!("  - {a}\n")).collect(),
        );
        deal(
            &mut bodies,
            "assignments",
            self.assignments
                .iter()
                .map(|a| format!("  - {a}\n"))
                .collect(),
        );
        deal(
            &mut bodies,
            "overrides",
            self.overrides
                .iter()
                .map(|(o, reason)| format!("  - {{{o}, reason: {reason:?}}}\n"))
                .collect(),
        );
        deal(&mut bodies, "contracts", self.contracts.clone());
        let mut files: Vec<(std::path::PathBuf, String)> = bodies
            .into_iter()
            .enumerate()
            .map(|(i, b)| (format!("{}-{i}.yaml", self.prefix).into(), b))
            .collect();
        // Fisher-Yates with the spec's own seed.
        let mut r = Rng::new(self.shuffle);
        for i in (1..files.len()).rev() {
            let j = r.below(i + 1);
            files.swap(i, j);
        }
        files
    }
}

/// The files as one printable text, for failure messages.
pub fn show(files: &[(std::path::PathBuf, String)]) -> String {
    files
        .iter()
        .map(|(p, t)| format!("# ---- {} ----\n{t}", p.display()))
        .collect()
}

/// The customer key as written in the YAML text (not as the engine or loader read it).
pub fn customer_in(files: &[(std::path::PathBuf, String)]) -> String {
    files
        .iter()
        .flat_map(|(_, t)| t.lines())
        .find_map(|l| l.strip_prefix("customer: "))
        .expect("a customer line")
        .trim()
        .to_string()
}
