//! The facilitator's script of `demarc drill`: Markdown, and a self-contained HTML page with
//! the same content (no script, font or style fetched), both from the `demarc.drill/v1` JSON
//! shape so the three formats cannot disagree.

use std::fmt::Write;

use demarc_api::{DrillDutyV1, DrillV1};

fn duty_rows(lines: &[DrillDutyV1]) -> Vec<[String; 5]> {
    let mut rows = Vec::new();
    for l in lines {
        for o in &l.owners {
            let who = if o.who.is_empty() {
                "nobody".to_string()
            } else {
                o.who.join(" + ")
            };
            let mut flags = Vec::new();
            if o.unassigned {
                flags.push("UNASSIGNED".to_string());
            }
            if o.assumed {
                flags.push("assumed".to_string());
            }
            if !o.contested.is_empty() {
                flags.push(format!("contested with {}", o.contested.join(", ")));
            }
            if let Some(s) = &o.sla {
                flags.push(format!("SLA {s}"));
            }
            if let Some(b) = &o.basis {
                flags.push(b.clone());
            }
            rows.push([
                format!("{} {}", l.control, l.duty),
                who,
                serde_json::to_value(o.ownership)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                o.assets.join(", "),
                flags.join("; "),
            ]);
        }
        if !l.not_applicable.is_empty() {
            rows.push([
                format!("{} {}", l.control, l.duty),
                "—".into(),
                "not applicable".into(),
                l.not_applicable.join(", "),
                String::new(),
            ]);
        }
    }
    rows
}

const DUTY_HEAD: [&str; 5] = ["duty", "who", "ownership", "assets", "notes"];

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

type Section = (&'static str, Vec<&'static str>, Vec<Vec<String>>);

/// The reference tables under the script, shared by Markdown and HTML.
fn reference(d: &DrillV1) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    out.push((
        "Exposed assets",
        vec!["asset", "service"],
        d.assets
            .iter()
            .map(|a| vec![a.id.clone(), a.service.clone()])
            .collect(),
    ));
    for (title, lines) in [
        ("Cause", &d.cause),
        ("Detection", &d.detect),
        ("Response", &d.respond),
    ] {
        out.push((
            title,
            DUTY_HEAD.to_vec(),
            duty_rows(lines).into_iter().map(Vec::from).collect(),
        ));
    }
    let mut rows = Vec::new();
    for l in &d.logs {
        rows.extend(duty_rows(std::slice::from_ref(&l.enabled_by)));
        if let Some(r) = &l.read_by {
            rows.extend(duty_rows(std::slice::from_ref(r)));
        }
        for (asset, evidence) in &l.evidence {
            rows.push([
                format!("{} evidence", l.control),
                String::new(),
                String::new(),
                asset.clone(),
                evidence.clone(),
            ]);
        }
    }
    out.push((
        "Logs",
        DUTY_HEAD.to_vec(),
        rows.into_iter().map(Vec::from).collect(),
    ));
    out.push((
        "Call list",
        vec!["#", "who", "why", "contact", "SLA", "assets"],
        d.calls
            .iter()
            .enumerate()
            .map(|(n, c)| {
                vec![
                    (n + 1).to_string(),
                    c.name.clone(),
                    c.reason.clone(),
                    c.contact
                        .iter()
                        .chain(&c.phone)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    match (&c.sla, &c.sla_set_by) {
                        (Some(s), Some(b)) => format!("{s} ({b})"),
                        (Some(s), None) => s.clone(),
                        _ => String::new(),
                    },
                    c.assets.join(", "),
                ]
            })
            .collect(),
    ));
    out.push((
        "Providers",
        vec!["provider", "contact", "engage", "assets"],
        d.providers
            .iter()
            .map(|p| {
                vec![
                    p.name.clone().unwrap_or_else(|| p.provider.clone()),
                    p.contact
                        .iter()
                        .chain(&p.phone)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    if p.must_engage.is_empty() {
                        "not required".into()
                    } else {
                        p.must_engage.join("; ")
                    },
                    p.assets.join(", "),
                ]
            })
            .collect(),
    ));
    out.push((
        "Gaps that would slow the response",
        vec!["code", "severity", "key", "gap", "fix"],
        d.gaps
            .iter()
            .map(|g| {
                vec![
                    g.code.clone(),
                    serde_json::to_value(g.severity)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    g.key.clone(),
                    g.title.clone(),
                    g.fix.clone(),
                ]
            })
            .collect(),
    ));
    out
}

fn md_table(out: &mut String, head: &[&str], rows: &[impl AsRef<[String]>]) {
    if rows.is_empty() {
        out.push_str("_(none)_\n\n");
        return;
    }
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", head.iter().map(|_| "---|").collect::<String>());
    for r in rows {
        let cells: Vec<String> = r.as_ref().iter().map(|c| md_cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// The script as Markdown.
pub fn drill_md(d: &DrillV1) -> String {
    let mut out = String::new();
    let s = &d.scenario;
    let _ = writeln!(out, "# Tabletop drill: {}\n", s.title);
    let _ = writeln!(
        out,
        "Estate `{}`, as of {}; scenario `{}`; {} stays accountable. Exposed assets: {}.\n",
        d.estate,
        d.as_of,
        s.id,
        d.accountable,
        d.assets.len()
    );
    let _ = writeln!(out, "> {}\n", s.narrative);
    out.push_str("## Facilitator's script\n\n");
    for i in &d.injects {
        let _ = writeln!(out, "### {}. {}\n", i.number, i.title);
        let _ = writeln!(out, "**Ask:** {}\n", i.prompt);
        if !i.facts.is_empty() {
            out.push_str("What the estate says:\n\n");
            for f in &i.facts {
                let _ = writeln!(out, "- {f}");
            }
            out.push('\n');
        }
        if !i.findings.is_empty() {
            out.push_str("Problems the table should find:\n\n");
            for f in &i.findings {
                let _ = writeln!(out, "- ⚠ {f}");
            }
            out.push('\n');
        }
    }
    out.push_str("## Reference\n\n");
    for (title, head, rows) in reference(d) {
        let _ = writeln!(out, "### {title}\n");
        md_table(&mut out, &head, &rows);
    }
    out
}

fn html_table(out: &mut String, head: &[&str], rows: &[impl AsRef<[String]>]) {
    if rows.is_empty() {
        out.push_str("<p><em>(none)</em></p>\n");
        return;
    }
    out.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", crate::esc(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in rows {
        let r = r.as_ref();
        let bad = r.iter().any(|c| c.contains("UNASSIGNED") || c == "nobody");
        out.push_str(if bad { "<tr class=\"bad\">" } else { "<tr>" });
        for c in r {
            let _ = write!(out, "<td>{}</td>", crate::esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.6rem}h2{border-bottom:1px solid #ccc;margin-top:2rem}\
blockquote{border-left:4px solid #888;margin:1rem 0;padding:.5rem 1rem;background:#f5f5f5}\
.inject{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0;break-inside:avoid}\
.ask{font-weight:600}.finding{color:#a40000}\
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}\
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}\
tr.bad td{background:#fde8e8}code{background:#eee;padding:0 .2rem}\
@media print{body{margin:0;max-width:none}.inject{page-break-inside:avoid}}";

/// The script as one self-contained HTML page.
pub fn drill_html(d: &DrillV1) -> String {
    let s = &d.scenario;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Drill: {}</title><style>{STYLE}</style></head><body>\n",
        crate::esc(&s.title)
    );
    let _ = writeln!(out, "<h1>Tabletop drill: {}</h1>", crate::esc(&s.title));
    let _ = writeln!(
        out,
        "<p>Estate <code>{}</code>, as of {}; scenario <code>{}</code>; {} stays accountable. Exposed assets: {}. demarc {}.</p>",
        crate::esc(&d.estate),
        d.as_of,
        crate::esc(&s.id),
        crate::esc(&d.accountable),
        d.assets.len(),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "<blockquote>{}</blockquote>", crate::esc(&s.narrative));
    out.push_str("<h2>Facilitator's script</h2>\n");
    for i in &d.injects {
        let _ = writeln!(
            out,
            "<section class=\"inject\"><h3>{}. {}</h3><p class=\"ask\">Ask: {}</p>",
            i.number,
            crate::esc(&i.title),
            crate::inline_code(&i.prompt)
        );
        if !i.facts.is_empty() {
            out.push_str("<p>What the estate says:</p><ul>");
            for f in &i.facts {
                let _ = write!(out, "<li>{}</li>", crate::inline_code(f));
            }
            out.push_str("</ul>\n");
        }
        if !i.findings.is_empty() {
            out.push_str("<p>Problems the table should find:</p><ul>");
            for f in &i.findings {
                let _ = write!(
                    out,
                    "<li class=\"finding\">⚠ {}</li>",
                    crate::inline_code(f)
                );
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("<h2>Reference</h2>\n");
    for (title, head, rows) in reference(d) {
        let _ = writeln!(out, "<h3>{}</h3>", crate::esc(title));
        html_table(&mut out, &head, &rows);
    }
    out.push_str("</body></html>\n");
    out
}
