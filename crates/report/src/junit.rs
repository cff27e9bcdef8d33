//! `check --format junit`: JUnit XML for CI systems. One test case per gap code that found
//! nothing (passed), and one per gap: a failure when it is at or above `--fail-on`, skipped
//! (reported, not failing) below it.

use demarc_engine::{Analysis, Resolution, Severity, codes};

/// Escapes text for XML content and attribute values, and drops characters XML 1.0 cannot
/// hold at all (control characters other than tab, newline and carriage return).
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => o.push(c),
        }
    }
    o
}

/// The JUnit XML of a check. `fail_on`: the lowest severity that fails (`None`: nothing does).
pub fn junit(res: &Resolution, analysis: &Analysis, fail_on: Option<Severity>) -> String {
    let mut cases = Vec::new();
    let (mut failures, mut skipped) = (0usize, 0usize);
    let mut infos = codes::all();
    for g in &analysis.gaps {
        if !infos.iter().any(|c| c.code == g.code) {
            infos.push(demarc_engine::CodeInfo {
                code: g.code,
                name: g.kind,
                severity: "",
                summary: "",
            });
        }
    }
    for c in &infos {
        let gaps: Vec<_> = analysis.gaps.iter().filter(|g| g.code == c.code).collect();
        if gaps.is_empty() {
            cases.push(format!(
                "    <testcase classname=\"demarc.{}\" name=\"{} {}: no gaps\"/>\n",
                xml_escape(c.code),
                xml_escape(c.code),
                xml_escape(c.name)
            ));
            continue;
        }
        for g in gaps {
            let body = format!(
                "{}\nseverity: {}\nkey: {}\nassets ({}): {}\nfix: {}\nbasis:\n{}",
                g.title,
                g.severity.as_str(),
                g.key,
                g.asset_count,
                g.assets.join(", "),
                g.fix,
                g.basis
                    .iter()
                    .map(|b| format!("  {b}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            let failing = fail_on.is_some_and(|t| g.severity >= t);
            let inner = if failing {
                failures += 1;
                format!(
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                    xml_escape(&g.title),
                    g.severity.as_str(),
                    xml_escape(&body)
                )
            } else {
                skipped += 1;
                format!(
                    "      <skipped message=\"{} gap below --fail-on\"/>\n      <system-out>{}</system-out>\n",
                    g.severity.as_str(),
                    xml_escape(&body)
                )
            };
            cases.push(format!(
                "    <testcase classname=\"demarc.{}\" name=\"{}\">\n{inner}    </testcase>\n",
                xml_escape(g.code),
                xml_escape(&g.key)
            ));
        }
    }
    let name = xml_escape(&format!("demarc check {}", res.estate().name));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"{name}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n  <testsuite name=\"{name}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" timestamp=\"{}T00:00:00\">\n",
        res.as_of(),
        n = cases.len()
    ));
    for c in cases {
        out.push_str(&c);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
