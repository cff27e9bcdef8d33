//! Renders the compliance contract: a framework rollup as a table, CSV, Markdown or a
//! self-contained HTML page, and the cross-framework view.

use demarc_api::{ComplianceCrossV1, ComplianceV1, RequirementV1};

use crate::Grid;

fn split_label(r: &RequirementV1) -> String {
    r.split
        .iter()
        .map(|s| format!("{} {}%", s.party, fmt_pct(s.share_pct)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fmt_pct(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    }
}

fn evidence_label(r: &RequirementV1) -> String {
    let e = &r.evidence;
    match e.status.as_str() {
        "not-required" => "n/a".into(),
        "complete" => "complete".into(),
        s => format!(
            "{s} ({} missing, {} expired of {})",
            e.missing, e.expired, e.needed
        ),
    }
}

fn attestation_label(r: &RequirementV1) -> String {
    let a = &r.attestation;
    match a.status.as_str() {
        "not-needed" => "n/a".into(),
        "backed" => format!("backed: {}", a.by.join(", ")),
        s => format!(
            "{s}: {} of {} inherited cells backed",
            a.backed_cells, a.inherited_cells
        ),
    }
}

fn origination_label(r: &RequirementV1) -> &'static str {
    match r.origination {
        demarc_api::OriginationV1::Inherited => "inherited",
        demarc_api::OriginationV1::Shared => "shared",
        demarc_api::OriginationV1::Customer => "customer",
        demarc_api::OriginationV1::NotApplicable => "not applicable",
        demarc_api::OriginationV1::NotAddressed => "not addressed",
    }
}

/// The summary lines above the table.
pub fn compliance_header(c: &ComplianceV1) -> String {
    let s = &c.summary;
    let mut out = format!(
        "{} {}{} for {} ({} assets in scope, as of {})\n",
        c.framework.name,
        c.framework.edition,
        c.framework
            .baseline
            .as_ref()
            .map(|b| format!(", {} baseline", b.id))
            .unwrap_or_default(),
        c.estate,
        c.scope.assets,
        c.as_of
    );
    out.push_str(&format!(
        "{} requirements: {} apply to the estate, {} not addressed by the catalog, {} with no asset in scope\n",
        s.requirements, s.applicable, s.not_addressed, s.not_applicable
    ));
    out.push_str(&format!(
        "of those that apply: {}% inherited, {}% shared, {}% yours; ready {}% ({} of {}); {} at risk\n",
        fmt_pct(s.inherited_pct),
        fmt_pct(s.shared_pct),
        fmt_pct(s.customer_pct),
        fmt_pct(s.readiness_pct),
        s.ready,
        s.applicable,
        s.at_risk
    ));
    out.push_str(&format!(
        "by the work (cells of those requirements): {}% the provider's, {}% shared, {}% yours\n",
        fmt_pct(s.cells_provider_pct),
        fmt_pct(s.cells_shared_pct),
        fmt_pct(s.cells_customer_pct)
    ));
    if s.inherited_cells > 0 {
        out.push_str(&format!(
            "inherited cells backed by an in-date attestation: {} of {}\n",
            s.backed_cells, s.inherited_cells
        ));
    }
    if let Some(p) = &c.scope.party {
        out.push_str(&format!(
            "showing the {} requirements {p} carries part of (--mine)\n",
            c.requirements.len()
        ));
    }
    for m in &c.unknown_mappings {
        out.push_str(&format!(
            "warning: control `{}` maps to `{}`, which {} does not list\n",
            m.control, m.requirement, c.framework.id
        ));
    }
    out
}

/// Readiness per party.
pub fn parties_grid(c: &ComplianceV1) -> Grid {
    let mut g = Grid::new(["party", "role", "requirements", "ready", "readiness"]);
    for p in &c.parties {
        g.row([
            p.party.clone(),
            format!("{:?}", p.role).to_lowercase(),
            p.requirements.to_string(),
            p.ready.to_string(),
            format!("{}%", fmt_pct(p.readiness_pct)),
        ]);
    }
    g
}

/// Adds a row per statement part under each requirement row of `g` (`--parts`): the part's
/// label and prose, and what covers it (controls mapped to the part itself, or the whole
/// control's mapping).
pub fn with_parts(g: Grid, c: &ComplianceV1) -> Grid {
    let mut out = Grid::new(g.headers.clone());
    let width = g.headers.len();
    let col = |name: &str, default: usize| {
        g.headers
            .iter()
            .position(|h| h == name)
            .unwrap_or(default)
            .min(width - 1)
    };
    // CSV names its columns; the table's first three are requirement, title, carried.
    let (label_col, title_col, carried_col) = if g.headers.iter().any(|h| h == "label") {
        (col("label", 0), col("title", 1), col("origination", 2))
    } else {
        (0, 1.min(width - 1), 2.min(width - 1))
    };
    let id_col = g.headers.iter().position(|h| h == "requirement");
    let fixed: Vec<(usize, String)> = ["framework", "baseline"]
        .iter()
        .filter_map(|h| g.headers.iter().position(|x| x == h))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|i| (i, String::new()))
        .collect();
    for (row, r) in g.rows.into_iter().zip(&c.requirements) {
        let keep: Vec<(usize, String)> = fixed.iter().map(|(i, _)| (*i, row[*i].clone())).collect();
        out.rows.push(row);
        for p in &r.parts {
            let mut cells = vec![String::new(); width];
            for (i, v) in &keep {
                cells[*i] = v.clone();
            }
            if let Some(i) = id_col {
                cells[i] = p.id.clone();
            }
            // SP 800-53 part ids name their whole path: `ac-2_smt.d.1` → `AC-2(d)(1)`.
            cells[label_col] = if p.id.contains("_smt") {
                demarc_catalog::nist_800_53_label(&p.id)
            } else {
                format!("{} {}", r.label, p.label)
            };
            cells[title_col] = p.prose.clone();
            cells[carried_col] = match p.covered_by.as_str() {
                "part" => format!("part: {}", p.controls.join(", ")),
                "control" => "via the control".to_string(),
                _ => "not mapped".to_string(),
            };
            out.rows.push(cells);
        }
    }
    out
}

/// One row per requirement: the terminal and Markdown view.
pub fn compliance_grid(c: &ComplianceV1) -> Grid {
    let mine = c.scope.party.as_deref();
    let mut g = Grid::new([
        "requirement",
        "title",
        "carried",
        if mine.is_some() { "yours" } else { "split" },
        "attestation",
        "evidence",
        "ready",
    ]);
    for r in &c.requirements {
        let split = match mine {
            Some(p) => r
                .split
                .iter()
                .filter(|s| s.party == p || s.party.starts_with(&format!("{p}/")))
                .map(|s| {
                    format!(
                        "{}: {}",
                        s.party,
                        s.duties
                            .iter()
                            .map(|d| d.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            None => split_label(r),
        };
        let ready = if r.ready {
            "yes".to_string()
        } else if r.origination == demarc_api::OriginationV1::NotAddressed {
            format!("— {}", r.not_addressed.clone().unwrap_or_default())
        } else if r.origination == demarc_api::OriginationV1::NotApplicable {
            "—".to_string()
        } else {
            format!("no: {}", r.blockers.first().cloned().unwrap_or_default())
        };
        g.row([
            r.label.clone(),
            r.title.clone(),
            origination_label(r).to_string(),
            split,
            attestation_label(r),
            evidence_label(r),
            ready,
        ]);
    }
    g
}

/// Every field flat, for spreadsheets (`--format csv`).
pub fn compliance_csv_grid(c: &ComplianceV1) -> Grid {
    let mut g = Grid::new([
        "framework",
        "baseline",
        "requirement",
        "label",
        "title",
        "group",
        "origination",
        "fedramp_origination",
        "controls",
        "assets",
        "cells",
        "split",
        "attestation",
        "attested_by",
        "evidence",
        "at_risk",
        "ready",
        "blockers",
        "not_addressed",
    ]);
    let baseline = c
        .framework
        .baseline
        .as_ref()
        .map(|b| b.id.clone())
        .unwrap_or_default();
    for r in &c.requirements {
        g.row([
            c.framework.id.clone(),
            baseline.clone(),
            r.id.clone(),
            r.label.clone(),
            r.title.clone(),
            r.group.clone().unwrap_or_default(),
            origination_label(r).to_string(),
            r.fedramp_origination.clone(),
            r.controls
                .iter()
                .map(|m| m.control.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            r.assets.to_string(),
            r.cells.to_string(),
            split_label(r),
            r.attestation.status.clone(),
            r.attestation.by.join("; "),
            r.evidence.status.clone(),
            r.at_risk
                .iter()
                .map(|k| {
                    format!(
                        "{} {}{}",
                        k.what,
                        k.date,
                        if k.lapsed { " (lapsed)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            r.ready.to_string(),
            r.blockers.join("; "),
            r.not_addressed.clone().unwrap_or_default(),
        ]);
    }
    g
}

/// The cross-framework table.
pub fn cross_grid(x: &ComplianceCrossV1) -> Grid {
    let mut g = Grid::new([
        "framework",
        "requirements",
        "apply",
        "inherited",
        "shared",
        "yours",
        "work: provider / shared / yours",
        "not addressed",
        "ready",
    ]);
    for f in &x.frameworks {
        let s = &f.summary;
        g.row([
            match &f.framework.baseline {
                Some(b) => format!("{} ({})", f.framework.id, b.id),
                None => f.framework.id.clone(),
            },
            s.requirements.to_string(),
            s.applicable.to_string(),
            format!("{}%", fmt_pct(s.inherited_pct)),
            format!("{}%", fmt_pct(s.shared_pct)),
            format!("{}%", fmt_pct(s.customer_pct)),
            format!(
                "{}% / {}% / {}%",
                fmt_pct(s.cells_provider_pct),
                fmt_pct(s.cells_shared_pct),
                fmt_pct(s.cells_customer_pct)
            ),
            s.not_addressed.to_string(),
            format!("{}%", fmt_pct(s.readiness_pct)),
        ]);
    }
    g
}

/// Notes under the cross-framework table.
pub fn cross_notes(x: &ComplianceCrossV1) -> String {
    let mut out = String::new();
    for e in &x.explanation {
        out.push_str(e);
        out.push('\n');
    }
    for f in &x.frameworks {
        for n in &f.notes {
            out.push_str(&format!("{}: {n}\n", f.framework.id));
        }
    }
    out
}

pub use crate::esc;

/// A stacked bar of shares as inline SVG (no scripts, no external assets).
pub fn bar_svg(parts: &[(&str, f64, &str)], width: u32) -> String {
    let mut x = 0.0;
    let mut out = format!(
        "<svg class=\"bar\" role=\"img\" width=\"{width}\" height=\"22\" viewBox=\"0 0 {width} 22\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let mut title = Vec::new();
    for (label, p, color) in parts {
        let w = (p / 100.0 * width as f64).max(0.0);
        if w > 0.0 {
            out.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"22\" fill=\"{color}\"><title>{} {}%</title></rect>",
                esc(label),
                fmt_pct(*p)
            ));
        }
        x += w;
        title.push(format!("{label} {}%", fmt_pct(*p)));
    }
    out.push_str(&format!("<desc>{}</desc></svg>", esc(&title.join(", "))));
    out
}

pub const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}.inherited{background:#dbeafe}.shared{background:#fef3c7}.customer{background:#dcfce7}
.na{color:#57606a}.no{color:#b42318}.yes{color:#1a7f37}.legend span{display:inline-block;padding:.1rem .5rem;margin-right:.5rem;border-radius:3px}
.bar{display:block;margin:.3rem 0;border:1px solid #d0d7de}
@media print{th{position:static}body{margin:0}}";

pub const COLORS: [(&str, &str); 3] = [
    ("inherited", "#60a5fa"),
    ("shared", "#fbbf24"),
    ("yours", "#4ade80"),
];

/// The rollup as a self-contained HTML page (prints cleanly; no scripts).
pub fn compliance_html(c: &ComplianceV1) -> String {
    let s = &c.summary;
    let mut h = String::new();
    h.push_str(&format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — {}</title><style>{CSS}</style></head><body>",
        esc(&c.framework.name),
        esc(&c.estate)
    ));
    h.push_str(&format!(
        "<h1>{} {}{}</h1><p>Estate <b>{}</b>, {} assets in scope, as of {}. Accountable: {}. Source: {}.</p>",
        esc(&c.framework.name),
        esc(&c.framework.edition),
        c.framework
            .baseline
            .as_ref()
            .map(|b| format!(" — {} baseline", esc(&b.id)))
            .unwrap_or_default(),
        esc(&c.estate),
        c.scope.assets,
        c.as_of,
        esc(&c.accountable),
        esc(&c.framework.source)
    ));
    h.push_str(&format!(
        "<p>{} requirements; {} apply to the estate, {} are not addressed by the catalog, {} have no asset in scope. Ready: <b>{}%</b> ({} of {}).</p>",
        s.requirements, s.applicable, s.not_addressed, s.not_applicable, fmt_pct(s.readiness_pct), s.ready, s.applicable
    ));
    h.push_str(&bar_svg(
        &[
            ("inherited", s.inherited_pct, COLORS[0].1),
            ("shared", s.shared_pct, COLORS[1].1),
            ("yours", s.customer_pct, COLORS[2].1),
        ],
        600,
    ));
    h.push_str("<p class=\"legend\">");
    for (l, col) in COLORS {
        h.push_str(&format!("<span style=\"background:{col}\">{l}</span>"));
    }
    h.push_str("</p><h2>Readiness per party</h2><table><thead><tr><th>party</th><th>role</th><th>requirements</th><th>ready</th><th>readiness</th></tr></thead><tbody>");
    for p in &c.parties {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}%</td></tr>",
            esc(&p.party),
            format!("{:?}", p.role).to_lowercase(),
            p.requirements,
            p.ready,
            fmt_pct(p.readiness_pct)
        ));
    }
    h.push_str("</tbody></table><h2>Requirements</h2><table><thead><tr><th>requirement</th><th>title</th><th>carried</th><th>split</th><th>attestation</th><th>evidence</th><th>ready</th></tr></thead><tbody>");
    for r in &c.requirements {
        let class = match r.origination {
            demarc_api::OriginationV1::Inherited => "inherited",
            demarc_api::OriginationV1::Shared => "shared",
            demarc_api::OriginationV1::Customer => "customer",
            _ => "na",
        };
        let ready = if r.ready {
            "<span class=\"yes\">yes</span>".to_string()
        } else if let Some(n) = &r.not_addressed {
            format!("<span class=\"na\">not addressed: {}</span>", esc(n))
        } else if r.blockers.is_empty() {
            "<span class=\"na\">—</span>".to_string()
        } else {
            format!(
                "<span class=\"no\">no</span><ul>{}</ul>",
                r.blockers
                    .iter()
                    .map(|b| format!("<li>{}</li>", esc(b)))
                    .collect::<String>()
            )
        };
        h.push_str(&format!(
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{ready}</td></tr>",
            esc(&r.label),
            esc(&r.title),
            origination_label(r),
            esc(&split_label(r)),
            esc(&attestation_label(r)),
            esc(&evidence_label(r)),
        ));
    }
    h.push_str("</tbody></table></body></html>\n");
    h
}

/// The cross-framework view as a self-contained HTML page.
pub fn cross_html(x: &ComplianceCrossV1) -> String {
    let mut h = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Frameworks — {}</title><style>{CSS}</style></head><body><h1>One responsibility map, several frameworks</h1><p>Estate <b>{}</b>, {} assets, as of {}.</p>",
        esc(&x.estate),
        esc(&x.estate),
        x.assets,
        x.as_of
    );
    h.push_str("<table><thead><tr><th>framework</th><th>requirements</th><th>apply</th><th>split</th><th>not addressed</th><th>ready</th><th>why it differs</th></tr></thead><tbody>");
    for f in &x.frameworks {
        let s = &f.summary;
        h.push_str(&format!(
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}%</td><td><ul>{}</ul></td></tr>",
            esc(&f.framework.id),
            f.framework
                .baseline
                .as_ref()
                .map(|b| format!(" ({})", esc(&b.id)))
                .unwrap_or_default(),
            s.requirements,
            s.applicable,
            bar_svg(
                &[
                    ("inherited", s.inherited_pct, COLORS[0].1),
                    ("shared", s.shared_pct, COLORS[1].1),
                    ("yours", s.customer_pct, COLORS[2].1),
                ],
                240
            ),
            s.not_addressed,
            fmt_pct(s.readiness_pct),
            f.notes
                .iter()
                .map(|n| format!("<li>{}</li>", esc(n)))
                .collect::<String>()
        ));
    }
    h.push_str("</tbody></table><p class=\"legend\">");
    for (l, col) in COLORS {
        h.push_str(&format!("<span style=\"background:{col}\">{l}</span>"));
    }
    h.push_str("</p>");
    for e in &x.explanation {
        h.push_str(&format!("<p>{}</p>", esc(e)));
    }
    h.push_str("</body></html>\n");
    h
}

/// The evidence register, one row per piece of evidence.
pub fn evidence_grid(e: &demarc_api::EvidenceRegisterV1) -> Grid {
    let mut g = Grid::new([
        "control",
        "asset",
        "ref",
        "kind",
        "collected",
        "valid until",
        "status",
        "renew by",
        "file",
        "sha256",
        "file status",
        "requirements",
    ]);
    for x in &e.entries {
        g.row([
            x.control.clone(),
            x.asset.clone().unwrap_or_else(|| "(organisation)".into()),
            x.reference.clone(),
            x.kind.clone().unwrap_or_default(),
            x.collected.to_string(),
            x.valid_until.to_string(),
            x.status.clone(),
            x.renew_by.join(", "),
            x.file.clone().unwrap_or_default(),
            x.sha256.clone().unwrap_or_default(),
            x.file_status.clone(),
            x.requirements.join(" "),
        ]);
    }
    g
}

/// Controls that need evidence and lack it.
pub fn missing_grid(e: &demarc_api::EvidenceRegisterV1) -> Grid {
    let mut g = Grid::new(["control", "missing", "expired", "provide by"]);
    for m in &e.missing {
        g.row([
            m.control.clone(),
            if m.organisation {
                "organisation-wide".to_string()
            } else {
                format!("{} assets", m.missing_assets)
            },
            if m.organisation {
                String::new()
            } else {
                format!("{} assets", m.expired_assets)
            },
            m.provide_by.join(", "),
        ]);
    }
    g
}

/// The terminal view of the register: what needs doing first, then everything on file.
pub fn evidence_text(e: &demarc_api::EvidenceRegisterV1, term: crate::Term) -> String {
    let mut s = format!(
        "evidence for {} as of {}: {} on file, {} expired, {} expiring within {} days, {} files changed or unreadable, {} controls lacking evidence\n\n",
        e.estate,
        e.as_of,
        e.entries.len(),
        e.expired,
        e.expiring,
        e.within_days,
        e.changed,
        e.missing.len()
    );
    if !e.missing.is_empty() {
        s.push_str("missing or expired evidence (who must provide it):\n");
        s.push_str(&missing_grid(e).render_for(crate::Format::Table, term));
        s.push('\n');
    }
    let mut g = Grid::new([
        "control",
        "asset",
        "status",
        "valid until",
        "renew by",
        "file",
    ]);
    for x in &e.entries {
        g.row([
            x.control.clone(),
            x.asset.clone().unwrap_or_else(|| "(organisation)".into()),
            x.status.clone(),
            x.valid_until.to_string(),
            x.renew_by.join(", "),
            match &x.file {
                Some(f) => format!("{f} ({})", x.file_status),
                None => String::new(),
            },
        ]);
    }
    s.push_str(&g.render_for(crate::Format::Table, term));
    s
}
