//! A self-contained HTML report: no scripts, fonts or styles fetched from anywhere.
//!
//! It is the document an MSSP or an auditor hands a client: a summary with charts (inline SVG)
//! per party and per severity, the gaps with their basis, the cells that need a decision
//! (nobody named, contested, shared without a split) with the chain of rules behind each, and
//! the asset × duty matrix with problems coloured. Every `<details>` is expandable on screen
//! and printed expanded (the print style sheet shows a copy that the screen hides).

use std::collections::BTreeMap;

use demarc_engine::{Analysis, BasisKind, Cell, Resolution};
use demarc_model::Duty;

use askama::Template;

use crate::text::duty_summary;

const STYLE: &str = r#"
:root{--red:#dc2626;--red-bg:#fecaca;--amber:#d97706;--amber-bg:#fde68a;--line:#d0d7de}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:80rem;padding:0 1.5rem;color:#1b1f24}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:2px solid #1b1f24;padding-bottom:.2rem}
.meta{color:#57606a;margin:.2rem 0}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid var(--line);padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f6f8fa}
td.cell{font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12px;background:#f6f8fa;padding:0 .2rem;white-space:nowrap}
.provider{background:#dbeafe}.customer{background:#dcfce7}.third{background:#f3e8ff}
.shared{background:linear-gradient(135deg,#dbeafe 50%,#dcfce7 50%)}
.gap{background:var(--red-bg);outline:2px solid var(--red);outline-offset:-2px}
.contested{background:repeating-linear-gradient(135deg,var(--red-bg) 0 8px,#fee2e2 8px 16px);outline:2px solid var(--red);outline-offset:-2px}
.unsplit{background:var(--amber-bg);outline:2px solid var(--amber);outline-offset:-2px}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:0 .35rem;border-radius:3px;color:#fff;margin:.1rem .2rem .1rem 0}
.b-unassigned,.b-contested{background:var(--red)}.b-unsplit{background:var(--amber)}.b-assumed{background:#6b7280}
.sev{font-weight:600;white-space:nowrap}
.sev-critical{color:#fff;background:#991b1b}.sev-high{color:#fff;background:var(--red)}.sev-medium{color:#1b1f24;background:var(--amber-bg)}
.sev-low{color:#0e7490;background:#cffafe}.sev-info{color:#374151;background:#f3f4f6}
.legend span{display:inline-block;padding:.1rem .5rem;margin:0 .5rem .3rem 0;border:1px solid var(--line)}
.cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;min-width:7.5rem}
.card b{display:block;font-size:1.5rem}.card.bad{border-color:var(--red);background:#fef2f2}.card.warn{border-color:var(--amber);background:#fffbeb}
.charts{display:flex;flex-wrap:wrap;gap:2rem}.charts figure{margin:0}.charts figcaption{font-weight:600;margin-bottom:.3rem}
details summary{cursor:pointer;color:#0969da}
ol.basis{margin:.3rem 0;padding-left:1.4rem;min-width:22rem}ol.basis li{margin:.15rem 0}
.kind{font-size:11px;text-transform:uppercase;color:#57606a}.decisive{font-weight:600}.lost{color:#57606a}
.print-only{display:none}
small,.note{color:#57606a}
@media print{
  @page{size:A4 landscape;margin:12mm}
  body{margin:0;max-width:none;padding:0;font-size:10px}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  h2{break-after:avoid}
  tr,figure,.card{break-inside:avoid}
  details.screen-only{display:none}
  .print-only{display:block}
  a{color:inherit;text-decoration:none}
}
"#;

/// The matrix lists at most this many assets; beyond it a page is too big for a browser and
/// `demarc matrix --format csv` is the better tool.
pub const MATRIX_ROW_LIMIT: usize = 5_000;
/// Matrix rows up to this many carry each cell's per-control rules in an expandable block;
/// beyond it the rules stay in the hover text (the page would otherwise grow by megabytes).
pub const MATRIX_DETAIL_LIMIT: usize = 100;
/// At most this many groups of problem cells are listed with their basis.
pub const PROBLEM_GROUP_LIMIT: usize = 200;

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    name: &'a str,
    as_of: String,
    accountable: &'a str,
    version: &'static str,
    catalog_checked: String,
    assets: usize,
    cells: usize,
    gap_count: usize,
    ownership: Vec<(&'a str, usize)>,
    assumed: usize,
    unassigned: usize,
    contested: usize,
    unsplit: usize,
    style: &'static str,
    duties: [Duty; 5],
    shown: usize,
    detailed: usize,
    severities: Vec<SevCount>,
    charts: Vec<Chart>,
    problems: Vec<ProblemGroup>,
    problem_groups: usize,
    rows: Vec<Row>,
    gaps: Vec<GapRow<'a>>,
}

struct SevCount {
    name: &'static str,
    count: usize,
    codes: String,
}

/// A horizontal bar chart, laid out here so the template only places rectangles.
struct Chart {
    width: usize,
    height: usize,
    label_width: usize,
    bars: Vec<Bar>,
    title: String,
}

struct Bar {
    y: usize,
    label: String,
    /// Segments from left to right: x, width, fill colour, what it counts.
    segments: Vec<(usize, usize, &'static str, String)>,
    value_x: usize,
    value: String,
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
    /// Problems in this cell, e.g. `contested`, with the controls concerned.
    badges: Vec<(&'static str, String)>,
    /// Per control: who is responsible and the rule that decided it.
    rules: Vec<String>,
}

struct GapRow<'a> {
    severity: &'static str,
    key: &'a str,
    code: &'static str,
    kind: &'static str,
    control: String,
    duties: String,
    basis: &'a [String],
    title: &'a str,
    assets: String,
    fix: &'a str,
}

/// Cells with the same problem, control, duty, owners and basis, over every asset that has it.
struct ProblemGroup {
    status: Vec<&'static str>,
    class: &'static str,
    control: String,
    control_name: String,
    duty: Duty,
    responsible: String,
    contested: String,
    assets: String,
    asset_count: usize,
    basis: Vec<BasisLine>,
}

struct BasisLine {
    kind: &'static str,
    rule: String,
    at: String,
    url: String,
    /// `decisive`, `applied` or `lost`.
    role: &'static str,
}

/// The problems of one cell, worst first: `unassigned`, `contested`, `unsplit`.
pub fn problems_of(c: &Cell) -> Vec<&'static str> {
    let mut v = Vec::new();
    if c.unassigned {
        v.push("unassigned");
    }
    if !c.contested.is_empty() {
        v.push("contested");
    }
    if c.unsplit {
        v.push("unsplit");
    }
    v
}

fn basis_lines(c: &Cell) -> Vec<BasisLine> {
    let decisive = c.decisive().map(|b| b as *const _);
    crate::text::basis_in_reading_order(c)
        .into_iter()
        .map(|b| BasisLine {
            kind: crate::text::basis_kind_label(b.kind),
            rule: b.rule.to_string(),
            at: b.at.clone().unwrap_or_default(),
            url: b.url.clone().unwrap_or_default(),
            role: if Some(b as *const _) == decisive {
                "decisive"
            } else if matches!(b.kind, BasisKind::Superseded | BasisKind::Lapsed) {
                "lost"
            } else {
                "applied"
            },
        })
        .collect()
}

/// The first and last `checked` date of the catalog documents, e.g. `2025-03-01 to 2026-11-01`.
fn catalog_checked(res: &Resolution) -> String {
    let cat = res.catalog();
    let dates: Vec<chrono::NaiveDate> = cat
        .services
        .iter()
        .map(|s| s.source.checked)
        .chain(cat.models.iter().map(|m| m.source.checked))
        .filter(|d| *d != chrono::NaiveDate::MIN)
        .collect();
    match (dates.iter().min(), dates.iter().max()) {
        (Some(a), Some(b)) if a == b => format!("{a} ({} documents)", dates.len()),
        (Some(a), Some(b)) => format!("{a} to {b} ({} documents)", dates.len()),
        _ => "no dated documents".to_string(),
    }
}

fn severity_fill(s: &str) -> &'static str {
    match s {
        "critical" => "#991b1b",
        "high" => "#dc2626",
        "medium" => "#d97706",
        "low" => "#0891b2",
        _ => "#6b7280",
    }
}

/// One part of a bar: its count, fill colour and what it counts.
type Segment = (usize, &'static str, String);
/// Problem cells grouped by (rank, control, duty, responsible, basis): a few asset ids, how
/// many assets in all, and one of the cells.
type ProblemKey = (u8, String, Duty, String, String);

const CHART_WIDTH: usize = 560;
const BAR_HEIGHT: usize = 22;
const BAR_GAP: usize = 8;

fn chart(title: &str, label_width: usize, rows: Vec<(String, Vec<Segment>)>) -> Chart {
    let max = rows
        .iter()
        .map(|(_, segs)| segs.iter().map(|s| s.0).sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let plot = CHART_WIDTH - label_width - 70;
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(n, (label, segs))| {
            let total: usize = segs.iter().map(|s| s.0).sum();
            let mut x = label_width;
            let segments = segs
                .into_iter()
                .filter(|s| s.0 > 0)
                .map(|(v, fill, what)| {
                    // Every non-zero count gets at least 2 px, so a single problem cell shows.
                    let w = (v * plot / max).max(2);
                    let seg = (x, w, fill, what);
                    x += w;
                    seg
                })
                .collect();
            Bar {
                y: n * (BAR_HEIGHT + BAR_GAP),
                label,
                segments,
                value_x: x + 6,
                value: total.to_string(),
            }
        })
        .collect::<Vec<_>>();
    Chart {
        width: CHART_WIDTH,
        height: (bars.len() * (BAR_HEIGHT + BAR_GAP)).max(BAR_HEIGHT),
        label_width,
        bars,
        title: title.to_string(),
    }
}

/// Renders the report. Askama escapes every value; only the built-in style sheet is inserted
/// raw.
pub fn report(res: &Resolution, analysis: &Analysis) -> Result<String, askama::Error> {
    let s = &analysis.summary;

    // Per table: how many assets use it (cells are shared by every asset of a table).
    let mut per_table: Vec<Option<(demarc_engine::TableId, usize)>> = vec![None; res.table_count()];
    for i in res.assets() {
        let t = res.table_of(i);
        per_table[t.index()].get_or_insert((t, 0)).1 += 1;
    }
    let (mut contested, mut unsplit) = (0usize, 0usize);
    // Party (without team) → (cells without a problem, cells with one).
    let mut parties: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for &(t, n) in per_table.iter().flatten() {
        for c in res.table_cells(t) {
            if !c.contested.is_empty() {
                contested += n;
            }
            if c.unsplit {
                unsplit += n;
            }
            for a in &c.responsible {
                let label = if a.named {
                    a.label()
                } else {
                    format!("{} (nobody named)", a.label())
                };
                let e = parties.entry(label).or_default();
                if c.has_problem() {
                    e.1 += n;
                } else {
                    e.0 += n;
                }
            }
        }
    }

    // Problem cells grouped by what they say, with every asset that has them.
    let mut groups: BTreeMap<ProblemKey, (Vec<String>, usize, &Cell)> = BTreeMap::new();
    for i in res.assets() {
        for c in res.cells_of(i).iter().filter(|c| c.has_problem()) {
            let rank = if c.unassigned {
                0
            } else if !c.contested.is_empty() {
                1
            } else {
                2
            };
            let basis: Vec<&str> = c.basis.iter().map(|b| &*b.rule).collect();
            let key = (
                rank,
                res.control_of(c).id.clone(),
                c.duty,
                c.responsible_label(),
                basis.join("\n"),
            );
            let e = groups.entry(key).or_insert((Vec::new(), 0, c));
            if e.0.len() < 20 {
                e.0.push(res.asset(i).id.value.clone());
            }
            e.1 += 1;
        }
    }
    let problem_groups = groups.len();
    // Widest first (a contest over eighteen assets before one asset's unnamed owner), then
    // the worst problem, then by control.
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.1.cmp(&a.1.1).then_with(|| a.0.cmp(&b.0)));
    let problems: Vec<ProblemGroup> = groups
        .into_iter()
        .take(PROBLEM_GROUP_LIMIT)
        .map(|((_, control, duty, responsible, _), (ids, count, c))| {
            let status = problems_of(c);
            ProblemGroup {
                class: match status.first() {
                    Some(&"unassigned") => "gap",
                    Some(&"contested") => "contested",
                    _ => "unsplit",
                },
                status,
                control_name: res.control_of(c).name.clone(),
                control,
                duty,
                responsible,
                contested: c.contested.join(", "),
                assets: if count > ids.len() {
                    format!("{}, … ({count} in all)", ids.join(", "))
                } else {
                    ids.join(", ")
                },
                asset_count: count,
                basis: basis_lines(c),
            }
        })
        .collect();

    let rows: Vec<Row> = res
        .assets()
        .take(MATRIX_ROW_LIMIT)
        .enumerate()
        .map(|(n, i)| {
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
                        let rules: Vec<String> = of_duty
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
                        let mut badges = Vec::new();
                        for p in ["unassigned", "contested", "unsplit"] {
                            let ids: Vec<&str> = of_duty
                                .iter()
                                .filter(|c| problems_of(c).contains(&p))
                                .map(|c| res.control_of(c).id.as_str())
                                .collect();
                            if !ids.is_empty() {
                                badges.push((p, ids.join(", ")));
                            }
                        }
                        let detailed = n < MATRIX_DETAIL_LIMIT;
                        HtmlCell {
                            class: cell_class(&of_duty),
                            // The rules go in the hover text only where they are not on the
                            // page already.
                            title: if detailed {
                                String::new()
                            } else {
                                rules.join("\n")
                            },
                            lines: duty_summary(cells, d)
                                .split("; ")
                                .filter(|l| !l.is_empty())
                                .map(str::to_string)
                                .collect(),
                            badges,
                            rules: if detailed { rules } else { Vec::new() },
                        }
                    })
                    .collect(),
            }
        })
        .collect();

    let sev_names = ["critical", "high", "medium", "low", "info"];
    let severities: Vec<SevCount> = sev_names
        .iter()
        .map(|&name| {
            let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
            for g in analysis.gaps.iter().filter(|g| g.severity.as_str() == name) {
                *codes.entry(g.code).or_default() += 1;
            }
            SevCount {
                name,
                count: s.by_severity.get(name).copied().unwrap_or(0),
                codes: codes
                    .iter()
                    .map(|(c, n)| format!("{c} ×{n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    let severity_chart = chart(
        "Gaps by severity",
        90,
        severities
            .iter()
            .map(|sv| {
                (
                    sv.name.to_string(),
                    vec![(
                        sv.count,
                        severity_fill(sv.name),
                        format!("{} {} gaps", sv.count, sv.name),
                    )],
                )
            })
            .collect(),
    );
    let mut party_rows: Vec<(String, (usize, usize))> = parties.into_iter().collect();
    party_rows.sort_by(|a, b| (b.1.0 + b.1.1).cmp(&(a.1.0 + a.1.1)).then(a.0.cmp(&b.0)));
    let longest = party_rows
        .iter()
        .map(|p| p.0.chars().count())
        .max()
        .unwrap_or(0);
    let party_chart = chart(
        "Cells per responsible party",
        (longest * 7 + 12).clamp(90, 260),
        party_rows
            .into_iter()
            .map(|(label, (ok, bad))| {
                (
                    label,
                    vec![
                        (ok, "#60a5fa", format!("{ok} cells without a problem")),
                        (
                            bad,
                            "#dc2626",
                            format!("{bad} cells unassigned, contested or unsplit"),
                        ),
                    ],
                )
            })
            .collect(),
    );

    let page = Page {
        name: &res.estate().name,
        as_of: res.as_of().to_string(),
        accountable: res.accountable(),
        version: env!("CARGO_PKG_VERSION"),
        catalog_checked: catalog_checked(res),
        assets: s.assets,
        cells: s.cells,
        gap_count: s.gaps,
        ownership: s.ownership.iter().map(|(k, v)| (*k, *v)).collect(),
        assumed: s.assumed_cells,
        unassigned: s.unassigned_cells,
        contested,
        unsplit,
        style: STYLE,
        duties: Duty::ALL,
        shown: rows.len(),
        detailed: rows.len().min(MATRIX_DETAIL_LIMIT),
        severities,
        charts: vec![severity_chart, party_chart],
        problem_groups,
        problems,
        rows,
        gaps: analysis
            .gaps
            .iter()
            .map(|g| GapRow {
                severity: g.severity.as_str(),
                key: &g.key,
                code: g.code,
                kind: g.kind,
                control: g.control.clone().unwrap_or_default(),
                duties: g
                    .duties
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                basis: &g.basis,
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

/// The colour of a matrix cell: a problem wins over ownership (nobody named, then a contest,
/// then an unsplit share); otherwise the ownership most of its controls have.
fn cell_class(cells: &[&Cell]) -> &'static str {
    use demarc_engine::Ownership::*;
    if cells.iter().any(|c| c.unassigned) {
        return "gap";
    }
    if cells.iter().any(|c| !c.contested.is_empty()) {
        return "contested";
    }
    if cells.iter().any(|c| c.unsplit) {
        return "unsplit";
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
