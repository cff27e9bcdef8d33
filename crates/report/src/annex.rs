//! The responsibility annex as Markdown, as a printable HTML page, and as docx-compatible HTML
//! (simple tables, inline styles only, no script: Word opens it as a document), all from the
//! `demarc.annex/v1` JSON shape so the formats cannot disagree; the annex diff; and the
//! incident list as a grid.

use std::fmt::Write;

use demarc_api::{AnnexDiffV1, AnnexV1, IncidentsV1};

use crate::Grid;

/// A piece of the document, rendered to Markdown or HTML.
enum Block {
    H(u8, String),
    P(String),
    /// Header, rows, and whether each row is a problem (highlighted).
    Table(Vec<&'static str>, Vec<(Vec<String>, bool)>),
    Ol(Vec<String>),
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "—".into())
}

fn blocks(a: &AnnexV1) -> Vec<Block> {
    use Block::*;
    let mut b = Vec::new();
    b.push(H(
        1,
        format!("Responsibility annex: {} ({})", a.party_name, a.party),
    ));
    let duties: usize = a.systems.iter().map(|s| s.duties.len()).sum();
    let uncovered: Vec<String> = a
        .contracts
        .iter()
        .flat_map(|c| {
            c.clauses
                .iter()
                .filter(|cl| cl.covers_no_system)
                .map(move |cl| format!("{} §{}", c.id, cl.id))
        })
        .collect();
    b.push(P(format!(
        "Schedule of security duties between {} (`{}`, the customer, accountable for every duty) and {} (`{}`, {}). Drafted from the responsibility model of estate `{}` as of {}: {} system group(s), {} duty line(s), {} to be agreed, {} clause(s) covering no system.",
        a.customer_name,
        a.customer,
        a.party_name,
        a.party,
        a.kind,
        a.estate,
        a.as_of,
        a.systems.len(),
        duties,
        a.to_be_agreed,
        uncovered.len()
    )));
    if a.to_be_agreed > 0 {
        b.push(P(format!(
            "{} duty line(s) are marked TO BE AGREED: the model gives them to {} through an assignment, an override or the catalog, but no clause of its contracts covers them. Write a clause for each before signing, or move the duty.",
            a.to_be_agreed, a.party
        )));
    }

    b.push(H(2, "1. Contracts and clauses".into()));
    let mut rows = Vec::new();
    for c in &a.contracts {
        for cl in &c.clauses {
            let mut status = if cl.in_force {
                "in force".to_string()
            } else {
                cl.state.clone().unwrap_or_else(|| "not in force".into())
            };
            if cl.covers_no_system {
                status.push_str("; COVERS NO SYSTEM");
            }
            rows.push((
                vec![
                    format!("{} §{}", c.id, cl.id),
                    cl.text.clone(),
                    format!("{} assets, {} duties", cl.assets, cl.cells),
                    cl.sla
                        .iter()
                        .map(|(d, s)| format!("{d} {s}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    opt(&cl.cadence),
                    status,
                ],
                cl.covers_no_system,
            ));
        }
    }
    if rows.is_empty() {
        b.push(P(format!(
            "{} has no contract in the estate: every duty below is to be agreed.",
            a.party
        )));
    } else {
        b.push(Table(
            vec!["clause", "text", "decides", "SLA", "cadence", "status"],
            rows,
        ));
    }

    b.push(H(2, "2. Schedule of duties by system".into()));
    if a.systems.is_empty() {
        b.push(P(format!(
            "The model gives {} no duty on any asset.",
            a.party
        )));
    }
    for (n, s) in a.systems.iter().enumerate() {
        b.push(H(
            3,
            format!(
                "2.{} {}{} — {} asset(s)",
                n + 1,
                s.service,
                s.env
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default(),
                s.assets.len()
            ),
        ));
        b.push(P(format!(
            "Assets: {}.{}",
            s.assets.join(", "),
            s.provider
                .as_ref()
                .map(|p| format!(" Provider: {p}."))
                .unwrap_or_default()
        )));
        b.push(Table(
            vec!["control", "duty", "SLA", "cadence", "clause", "notes"],
            s.duties
                .iter()
                .map(|d| {
                    let mut notes = Vec::new();
                    if d.to_be_agreed {
                        notes.push(format!("TO BE AGREED (decided by {})", d.decided_by));
                    }
                    if !d.shared_with.is_empty() {
                        notes.push(format!("shared with {}", d.shared_with.join(", ")));
                    }
                    if !d.via.is_empty() {
                        notes.push(format!("performed by {}", d.via.join(" → ")));
                    }
                    if !d.contested.is_empty() {
                        notes.push(format!("CONTESTED with {}", d.contested.join(", ")));
                    }
                    (
                        vec![
                            format!("{} ({})", d.control_name, d.control),
                            d.duty.to_string(),
                            opt(&d.sla),
                            opt(&d.cadence),
                            d.clause.clone().unwrap_or_else(|| "—".into()),
                            notes.join("; "),
                        ],
                        d.to_be_agreed || !d.contested.is_empty(),
                    )
                })
                .collect(),
        ));
        if !s.customer_keeps.is_empty() {
            b.push(P(format!(
                "What {} (and the provider) keep on these controls:",
                a.customer
            )));
            b.push(Table(
                vec!["control", "duty", "customer", "provider"],
                s.customer_keeps
                    .iter()
                    .map(|k| {
                        (
                            vec![
                                k.control.clone(),
                                k.duty.to_string(),
                                if k.customer.is_empty() {
                                    "—".into()
                                } else {
                                    k.customer.join(" + ")
                                },
                                if k.provider.is_empty() {
                                    "—".into()
                                } else {
                                    k.provider.join(" + ")
                                },
                            ],
                            k.unassigned,
                        )
                    })
                    .collect(),
            ));
        }
    }

    b.push(H(2, "3. Log sharing".into()));
    b.push(P("Each log flows from whoever holds its configure duty (who turns it on and keeps it on) to whoever holds its monitor duty (who reads it), at the monitor duty's cadence, or the party's own cadence on the control. Logs are the controls the built-in incident drills need for an investigation.".into()));
    b.push(Table(
        vec!["log", "from", "to", "how often", "assets"],
        a.logs
            .iter()
            .map(|l| {
                (
                    vec![
                        format!("{} ({})", l.log_name, l.log),
                        l.from.join(" + "),
                        l.to.join(" + "),
                        l.every
                            .clone()
                            .unwrap_or_else(|| "not written (continuous?)".into()),
                        l.assets.join(", "),
                    ],
                    l.from_unassigned,
                )
            })
            .collect(),
    ));

    b.push(H(2, "4. Escalation path and contacts".into()));
    let contact = |c: &demarc_api::ContactV1| {
        let mut s = format!(
            "{}{}: {}",
            c.party,
            c.team.as_ref().map(|t| format!("/{t}")).unwrap_or_default(),
            c.name
        );
        if let Some(x) = &c.contact {
            let _ = write!(s, ", {x}");
        }
        if let Some(x) = &c.phone {
            let _ = write!(s, ", {x}");
        }
        s
    };
    b.push(Table(
        vec!["side", "contact"],
        a.contacts
            .iter()
            .map(|c| (vec![a.party.clone(), contact(c)], false))
            .chain(
                a.customer_contacts
                    .iter()
                    .map(|c| (vec![a.customer.clone(), contact(c)], false)),
            )
            .collect(),
    ));
    b.push(P(
        "Escalation, in order (the accountable customer is last):".into(),
    ));
    b.push(Ol(a.escalation.clone()));

    b.push(H(2, "5. Evidence to provide".into()));
    b.push(Table(
        vec![
            "control", "duties", "assets", "cadence", "next due", "expired", "missing",
        ],
        a.evidence
            .iter()
            .map(|e| {
                (
                    vec![
                        format!("{} ({})", e.control_name, e.control),
                        e.duties
                            .iter()
                            .map(|d| d.to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        if e.organisation {
                            "organisation-wide".into()
                        } else {
                            e.assets.join(", ")
                        },
                        opt(&e.cadence),
                        e.next_due
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "now".into()),
                        e.expired.join(", "),
                        e.missing.join(", "),
                    ],
                    !e.expired.is_empty() || !e.missing.is_empty(),
                )
            })
            .collect(),
    ));

    b.push(H(2, "6. Review of this annex".into()));
    b.push(P(format!(
        "This annex is reviewed with the responsibility model every {} (settings.review_cadence). Last review: {}. Next review due: {}.{}",
        a.review_cadence,
        a.last_review
            .map(|d| d.to_string())
            .unwrap_or_else(|| "never".into()),
        a.next_review,
        a.contracts
            .iter()
            .filter_map(|c| c.expires.map(|e| format!(" Contract {} expires {e}.", c.id)))
            .collect::<String>()
    )));

    if let Some(c) = &a.compare {
        b.push(H(2, format!("Comparison with contract {}", c.contract)));
        b.push(P(format!(
            "{} duty line(s) of {} that no clause of {} covers; {} clause(s) that cover none of its duties.",
            c.left_out.len(),
            a.party,
            c.contract,
            c.unused_clauses.len()
        )));
        b.push(Table(
            vec!["system", "control", "duty", "assets", "decided by"],
            c.left_out
                .iter()
                .map(|l| {
                    (
                        vec![
                            format!(
                                "{}{}",
                                l.service,
                                l.env
                                    .as_ref()
                                    .map(|e| format!(" ({e})"))
                                    .unwrap_or_default()
                            ),
                            l.control.clone(),
                            l.duty.to_string(),
                            l.assets.join(", "),
                            l.decided_by.clone(),
                        ],
                        true,
                    )
                })
                .collect(),
        ));
        if !c.unused_clauses.is_empty() {
            b.push(P(format!(
                "Clauses covering none of the party's duties: {}.",
                c.unused_clauses.join("; ")
            )));
        }
    }
    b
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The annex as Markdown.
pub fn annex_md(a: &AnnexV1) -> String {
    let mut out = String::new();
    for b in blocks(a) {
        match b {
            Block::H(n, t) => {
                let _ = writeln!(out, "{} {t}\n", "#".repeat(n as usize));
            }
            Block::P(t) => {
                let _ = writeln!(out, "{t}\n");
            }
            Block::Table(head, rows) => {
                if rows.is_empty() {
                    out.push_str("_(none)_\n\n");
                    continue;
                }
                let _ = writeln!(out, "| {} |", head.join(" | "));
                let _ = writeln!(out, "|{}", head.iter().map(|_| "---|").collect::<String>());
                for (r, _) in rows {
                    let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
            Block::Ol(items) => {
                for (i, it) in items.iter().enumerate() {
                    let _ = writeln!(out, "{}. {it}", i + 1);
                }
                out.push('\n');
            }
        }
    }
    out
}

const TABLE: &str = "border-collapse:collapse;width:100%;font-size:10pt;margin:6pt 0";
const TH: &str =
    "border:1px solid #999;padding:3pt 5pt;text-align:left;vertical-align:top;background:#e8eef4";
const TD: &str = "border:1px solid #999;padding:3pt 5pt;text-align:left;vertical-align:top";
const BAD: &str = "background:#fde2e2;color:#8a0000";

/// The annex as one self-contained HTML page that prints cleanly; with `docx`, as HTML a word
/// processor opens as a document: simple tables, inline styles only, no `<style>` block.
pub fn annex_html(a: &AnnexV1, docx: bool) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Responsibility annex: {}</title>",
        crate::esc(&a.party_name)
    );
    if docx {
        out.push_str("<meta name=\"ProgId\" content=\"Word.Document\">");
    } else {
        out.push_str("<style>@page{margin:15mm}@media print{body{margin:0!important;max-width:none!important}h2{page-break-after:avoid}tr{page-break-inside:avoid}thead{display:table-header-group}}</style>");
    }
    out.push_str("</head>\n<body style=\"font-family:Calibri,Arial,sans-serif;font-size:11pt;color:#222;max-width:60rem;margin:2rem auto;padding:0 1rem\">\n");
    for b in blocks(a) {
        match b {
            Block::H(n, t) => {
                let style = match n {
                    1 => "font-size:18pt;margin:0 0 8pt",
                    2 => "font-size:14pt;border-bottom:1px solid #999;margin:16pt 0 6pt",
                    _ => "font-size:12pt;margin:12pt 0 4pt",
                };
                let _ = writeln!(
                    out,
                    "<h{n} style=\"{style}\">{}</h{n}>",
                    crate::inline_code(&t)
                );
            }
            Block::P(t) => {
                let _ = writeln!(
                    out,
                    "<p style=\"margin:4pt 0\">{}</p>",
                    crate::inline_code(&t)
                );
            }
            Block::Table(head, rows) => {
                if rows.is_empty() {
                    out.push_str("<p style=\"margin:4pt 0\"><em>(none)</em></p>\n");
                    continue;
                }
                let _ = write!(out, "<table style=\"{TABLE}\"><thead><tr>");
                for h in head {
                    let _ = write!(out, "<th style=\"{TH}\">{}</th>", crate::esc(h));
                }
                out.push_str("</tr></thead><tbody>\n");
                for (r, bad) in rows {
                    out.push_str("<tr>");
                    for c in r {
                        let style = if bad {
                            format!("{TD};{BAD}")
                        } else {
                            TD.to_string()
                        };
                        let _ = write!(out, "<td style=\"{style}\">{}</td>", crate::esc(&c));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody></table>\n");
            }
            Block::Ol(items) => {
                out.push_str("<ol style=\"margin:4pt 0\">");
                for it in items {
                    let _ = write!(out, "<li>{}</li>", crate::esc(&it));
                }
                out.push_str("</ol>\n");
            }
        }
    }
    let _ = writeln!(
        out,
        "<p style=\"margin-top:16pt;font-size:9pt;color:#666\">Generated by demarc {} from the estate's responsibility model; regenerate it rather than edit it.</p>",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("</body></html>\n");
    out
}

/// What changed in the schedule, as Markdown.
pub fn annex_diff_md(d: &AnnexDiffV1) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Changes to the responsibility annex of {}\n\nFrom the schedule as of {} to the schedule as of {}: {} change(s).\n",
        d.party,
        d.old_as_of,
        d.new_as_of,
        d.changes.len() + usize::from(d.review_cadence.is_some())
    );
    if let Some(r) = &d.review_cadence {
        let _ = writeln!(out, "- review cadence: {} → {}\n", opt(&r.old), opt(&r.new));
    }
    if d.changes.is_empty() {
        out.push_str("No duty was added or dropped, and no SLA, cadence or clause changed.\n");
        return out;
    }
    out.push_str("| change | control | duty | old | new | assets |\n|---|---|---|---|---|---|\n");
    for c in &d.changes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            c.change,
            c.control,
            c.duty,
            md_cell(&opt(&c.old)),
            md_cell(&opt(&c.new)),
            c.assets.join(", ")
        );
    }
    out
}

fn minutes(m: i64) -> String {
    if m >= 60 * 24 && m % (60 * 24) == 0 {
        format!("{}d", m / (60 * 24))
    } else if m >= 60 {
        format!("{}h{:02}m", m / 60, m % 60)
    } else {
        format!("{m}m")
    }
}

fn timing(t: &Option<demarc_api::TimingV1>) -> String {
    match t {
        None => "—".into(),
        Some(t) => {
            let took = minutes(t.minutes);
            match (&t.sla, t.met) {
                (Some(s), Some(true)) => format!("{took} (SLA {s}: met)"),
                (Some(s), Some(false)) => format!("{took} (SLA {s}: MISSED)"),
                _ => format!("{took} (no SLA)"),
            }
        }
    }
}

/// The incident list as a grid (table, CSV, Markdown).
pub fn incidents_grid(v: &IncidentsV1) -> Grid {
    let mut g = Grid::new([
        "incident",
        "date",
        "failed",
        "assets",
        "responsible then",
        "failure",
        "detect",
        "respond",
        "review",
        "repeats",
    ]);
    for i in &v.incidents {
        let holders: Vec<String> = i
            .holders
            .iter()
            .map(|h| {
                let who = if h.who.is_empty() {
                    "nobody (not on the map)".to_string()
                } else {
                    h.who.join(" + ")
                };
                match &h.basis {
                    Some(b) => format!(
                        "{}: {who} [{}]",
                        h.asset,
                        b.split_once(": ").map_or(b.as_str(), |(n, _)| n)
                    ),
                    None => format!("{}: {who}", h.asset),
                }
            })
            .collect();
        g.row([
            i.id.clone(),
            i.date.to_string(),
            format!("{} {}", i.control, i.duty),
            i.assets.join(", "),
            holders.join("; "),
            format!("{}: {}", i.failure, i.why),
            timing(&i.detect),
            timing(&i.respond),
            match (&i.signed_off, &i.signed_off_by) {
                (Some(d), Some(by)) => format!("signed off {d} by {by}"),
                _ => "OPEN (DM019)".into(),
            },
            if i.repeats.is_empty() {
                "—".into()
            } else {
                format!("REPEAT of {}", i.repeats.join(", "))
            },
        ]);
    }
    g
}
