//! A self-contained HTML report: no scripts or styles fetched from anywhere.

use std::collections::BTreeMap;

use demarc_engine::{Analysis, Cell, Resolution};
use demarc_model::Duty;

use askama::Template;

use crate::text::duty_summary;

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f6f8fa;position:sticky;top:0}
td.cell{font-size:12px}
.provider{background:#dbeafe}.customer{background:#dcfce7}.third{background:#f3e8ff}
.shared{background:linear-gradient(135deg,#dbeafe 50%,#dcfce7 50%)}.gap{background:#fee2e2}
.sev-critical,.sev-high{color:#b91c1c;font-weight:600}.sev-medium{color:#b45309}.sev-low{color:#0e7490}
.legend span{display:inline-block;padding:.1rem .5rem;margin-right:.5rem;border:1px solid #d0d7de}
small{color:#57606a}
"#;

/// The matrix lists at most this many assets; beyond it a page is too big for a browser and
/// `demarc matrix --format csv` is the better tool.
pub const MATRIX_ROW_LIMIT: usize = 5_000;

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    name: &'a str,
    as_of: String,
    accountable: &'a str,
    assets: usize,
    cells: usize,
    gap_count: usize,
    ownership: Vec<(&'a str, usize)>,
    assumed: usize,
    unassigned: usize,
    style: &'static str,
    duties: [Duty; 5],
    shown: usize,
    rows: Vec<Row>,
    gaps: Vec<GapRow<'a>>,
}

struct Row {
    id: String,
    service: String,
    cells: Vec<HtmlCell>,
}

struct HtmlCell {
    class: &'static str,
    title: String,
    lines: Vec<String>,
}

struct GapRow<'a> {
    severity: &'static str,
    key: &'a str,
    code: &'static str,
    kind: &'static str,
    basis: String,
    title: &'a str,
    assets: String,
    fix: &'a str,
}

/// Renders the report: summary, gaps, and the asset × duty matrix coloured by party (basis on
/// hover). Askama escapes every value; only the built-in style sheet is inserted raw.
pub fn report(res: &Resolution, analysis: &Analysis) -> Result<String, askama::Error> {
    let s = &analysis.summary;
    let rows: Vec<Row> = res
        .assets()
        .take(MATRIX_ROW_LIMIT)
        .map(|i| {
            let a = res.asset(i);
            let cells = res.cells_of(i);
            Row {
                id: a.id.value.clone(),
                service: a.service.to_string(),
                cells: Duty::ALL
                    .iter()
                    .map(|&d| {
                        let of_duty: Vec<&Cell> =
                            cells.iter().filter(|c| c.duty == d).map(|c| &**c).collect();
                        // Hover shows, per control, who and the rule that decided it.
                        let title: Vec<String> = of_duty
                            .iter()
                            .map(|c| {
                                format!(
                                    "{}: {} — {}",
                                    res.control_of(c).id,
                                    c.responsible_label(),
                                    crate::text::deciding_basis(c)
                                )
                            })
                            .collect();
                        HtmlCell {
                            class: dominant_class(&of_duty),
                            title: title.join("\n"),
                            lines: duty_summary(cells, d)
                                .split("; ")
                                .filter(|l| !l.is_empty())
                                .map(str::to_string)
                                .collect(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let page = Page {
        name: &res.estate().name,
        as_of: res.as_of().to_string(),
        accountable: res.accountable(),
        assets: s.assets,
        cells: s.cells,
        gap_count: s.gaps,
        ownership: s.ownership.iter().map(|(k, v)| (*k, *v)).collect(),
        assumed: s.assumed_cells,
        unassigned: s.unassigned_cells,
        style: STYLE,
        duties: Duty::ALL,
        shown: rows.len(),
        rows,
        gaps: analysis
            .gaps
            .iter()
            .map(|g| GapRow {
                severity: g.severity.as_str(),
                key: &g.key,
                code: g.code,
                kind: g.kind,
                basis: g.basis.join("\n"),
                title: &g.title,
                assets: if g.asset_count > g.assets.len() {
                    format!("{} … ({} in all)", g.assets.join(", "), g.asset_count)
                } else {
                    g.assets.join(", ")
                },
                fix: &g.fix,
            })
            .collect(),
    };
    page.render()
}

fn dominant_class(cells: &[&demarc_engine::Cell]) -> &'static str {
    use demarc_engine::Ownership::*;
    if cells.iter().any(|c| c.unassigned) {
        return "gap";
    }
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for c in cells {
        let k = match c.ownership {
            CspOwned => "provider",
            CscOwned => "customer",
            Shared => "shared",
            ThirdParty => "third",
        };
        *counts.entry(k).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(k, _)| k)
        .unwrap_or("")
}
