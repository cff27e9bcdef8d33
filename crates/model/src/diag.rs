//! Errors that teach: each names the file, line and column, says what is wrong and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// A place in a file, already resolved to a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
}

/// One problem with the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub place: Option<Place>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(place: Option<Place>, message: impl Into<String>) -> Self {
        Diagnostic {
            place,
            message: message.into(),
            help: None,
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.place {
            write!(f, "{}: ", crate::load::fmt_place(p))?;
        }
        write!(f, "error: {}", self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// Every problem found, so a user fixes them all in one pass instead of one per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

/// At most this many problems are printed; the rest are counted ("… and 12 more errors"),
/// so 200,000 duplicate ids do not print 200,000 lines.
pub const MAX_SHOWN: usize = 50;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One more than the cap is shown rather than counted ("… and 1 more" saves nothing).
        let shown = if self.0.len() <= MAX_SHOWN + 1 {
            self.0.len()
        } else {
            MAX_SHOWN
        };
        for (i, d) in self.0.iter().take(shown).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if let Some(more) = self.0.len().checked_sub(shown).filter(|&n| n > 0) {
            let s = if more == 1 { "" } else { "s" };
            write!(
                f,
                "\n… and {more} more error{s} (the first {MAX_SHOWN} are shown; fix them and run again)"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// Names longer than this (in bytes) get no "did you mean": nobody mistypes a 200-character
/// name, and comparing a megabyte-long one with every candidate would take seconds.
pub const SUGGEST_MAX_LEN: usize = 128;
/// At most this many candidates (of a plausible length) are compared by edit distance for one
/// name, so an estate with 200,000 parties and thousands of unknown names stays fast.
pub const SUGGEST_MAX_CANDIDATES: usize = 2_000;

/// The closest candidate to a misspelt name, if one is close enough to be a likely typo.
///
/// The work is bounded: names over [`SUGGEST_MAX_LEN`] bytes get no suggestion, candidates
/// whose length differs by more than the allowed distance are skipped without comparing them,
/// and at most [`SUGGEST_MAX_CANDIDATES`] are compared.
pub fn suggest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if wrong.len() > SUGGEST_MAX_LEN {
        return None;
    }
    let len = wrong.chars().count();
    let limit = (len / 3).clamp(2, 4);
    let candidates: Vec<&'a str> = candidates
        .into_iter()
        .filter(|c| c.len() <= SUGGEST_MAX_LEN * 4)
        .collect();
    let near = candidates
        .iter()
        .filter(|c| {
            c.len().abs_diff(wrong.len()) <= limit * 4 && c.chars().count().abs_diff(len) <= limit
        })
        .take(SUGGEST_MAX_CANDIDATES)
        .map(|&c| (strsim::damerau_levenshtein(wrong, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c);
    // Failing that, a name that is an abbreviation or a longer spelling of the other
    // (`environment` for `env`, `desc` for `description`), at least three letters in common.
    near.or_else(|| {
        let w = wrong.to_ascii_lowercase();
        candidates
            .iter()
            .copied()
            .filter(|c| {
                let c = c.to_ascii_lowercase();
                (c.len() >= 3 && w.starts_with(&c)) || (w.len() >= 3 && c.starts_with(&w))
            })
            .min_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)))
    })
}

/// The candidate within `max_distance` edits of `wrong` (the nearest; ties by name), with the
/// same bounds as [`suggest`] but no abbreviation rule: for telling a typo (`aws:ec22`) from
/// a name that is merely new (`aws:ecs-anywhere`).
pub fn near_miss<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max_distance: usize,
) -> Option<&'a str> {
    if wrong.len() > SUGGEST_MAX_LEN {
        return None;
    }
    candidates
        .into_iter()
        .filter(|c| c.len().abs_diff(wrong.len()) <= max_distance * 4 && *c != wrong)
        .take(SUGGEST_MAX_CANDIDATES)
        .map(|c| (strsim::damerau_levenshtein(wrong, c), c))
        .filter(|(d, _)| *d <= max_distance)
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// A name cut to at most 60 characters for a message, so a megabyte-long id is not printed whole.
pub fn shorten(s: &str) -> String {
    if s.chars().count() <= 60 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(60).collect::<String>())
    }
}

/// "unknown X `y`" plus "did you mean `z`?" when there is a near miss, else the valid names.
pub fn unknown<'a>(
    what: &str,
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> (String, String) {
    let message = format!("unknown {what} `{}`", shorten(wrong));
    let help = match suggest(wrong, candidates.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let mut all: Vec<&str> = candidates.into_iter().collect();
            // The first twelve in order, without sorting 200,000 names for each unknown one.
            if all.len() > 12 {
                all.select_nth_unstable(12);
                all.truncate(12);
                all.push("…");
            }
            all.sort_unstable_by(|a, b| (*a == "…").cmp(&(*b == "…")).then(a.cmp(b)));
            // Only the catalog's names are listed by `demarc catalog list`; parties, assets and
            // teams are the estate's own.
            let listed_by = catalog_list(what);
            if all.is_empty() {
                format!("no {what} is defined yet; define it first")
            } else if all.last() != Some(&"…") {
                format!("valid values: {}", all.join(", "))
            } else {
                match listed_by {
                    Some(cmd) => format!("valid values include: {} (see `{cmd}`)", all.join(", ")),
                    None => format!("valid values include: {}", all.join(", ")),
                }
            }
        }
    };
    (message, help)
}

/// The `demarc catalog list` command that lists the names of a kind, when the catalog holds them.
fn catalog_list(what: &str) -> Option<&'static str> {
    let last = what.rsplit(' ').next().unwrap_or(what);
    Some(match last {
        "control" => "demarc catalog list controls",
        "service" => "demarc catalog list services",
        "model" => "demarc catalog list models",
        "framework" => "demarc catalog list frameworks",
        "layer" => "demarc catalog list layers",
        "provider" if what.contains("catalog") => "demarc catalog list services",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_name_for_a_typo() {
        let names = ["aws:ec2", "aws:ecs-fargate", "aws:s3"];
        assert_eq!(suggest("aws:ec3", names), Some("aws:ec2"));
        assert_eq!(suggest("azure:vm", names), None);
    }

    #[test]
    fn renders_file_line_column_and_help() {
        let d = Diagnostic::new(
            Some(Place {
                file: "examples/acme/assets.yaml".into(),
                line: 14,
                column: 9,
            }),
            "unknown service `aws:ec3`",
        )
        .with_help("did you mean `aws:ec2`?");
        assert_eq!(
            d.to_string(),
            "examples/acme/assets.yaml:14:9: error: unknown service `aws:ec3`\n  help: did you mean `aws:ec2`?"
        );
    }

    #[test]
    fn suggestions_are_bounded_in_length_and_candidates() {
        // A name over the length cap gets no suggestion, however close.
        let long = "a".repeat(SUGGEST_MAX_LEN + 1);
        let near = "a".repeat(SUGGEST_MAX_LEN);
        assert_eq!(suggest(&long, [near.as_str()]), None);
        // Only the first SUGGEST_MAX_CANDIDATES plausible candidates are compared.
        let many: Vec<String> = (0..SUGGEST_MAX_CANDIDATES)
            .map(|i| format!("zz{i:06}"))
            .collect();
        let mut names: Vec<&str> = many.iter().map(String::as_str).collect();
        names.push("party-a");
        assert_eq!(suggest("party-b", names.iter().copied()), None);
        names.insert(0, "party-a");
        assert_eq!(suggest("party-b", names.iter().copied()), Some("party-a"));
        // Candidates of a very different length are never compared.
        assert_eq!(suggest("ab", ["abcdefghij"]), None);
    }

    #[test]
    fn unknown_estate_names_do_not_point_to_the_catalog() {
        let names: Vec<String> = (0..20).map(|i| format!("p{i:02}")).collect();
        let (_, help) = unknown("party", "zzzzzzzz", names.iter().map(String::as_str));
        assert!(!help.contains("catalog"), "{help}");
        assert!(help.starts_with("valid values include: p00, p01"), "{help}");
        let (_, help) = unknown("control", "zzzzzzzz", names.iter().map(String::as_str));
        assert!(help.contains("`demarc catalog list controls`"), "{help}");
    }

    #[test]
    fn the_error_list_is_capped() {
        let d = Diagnostics(
            (0..MAX_SHOWN + 7)
                .map(|i| Diagnostic::new(None, format!("problem {i}")))
                .collect(),
        );
        let text = d.to_string();
        assert_eq!(text.lines().count(), MAX_SHOWN + 1);
        assert!(
            text.ends_with(&format!(
                "… and 7 more errors (the first {MAX_SHOWN} are shown; fix them and run again)"
            )),
            "{text}"
        );
    }
}
