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

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
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

/// The closest candidate to a misspelt name, if one is close enough to be a likely typo.
pub fn suggest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wrong.chars().count() / 3).clamp(2, 4);
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let near = candidates
        .iter()
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

/// "unknown X `y`" plus "did you mean `z`?" when there is a near miss, else the valid names.
pub fn unknown<'a>(
    what: &str,
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> (String, String) {
    let message = format!("unknown {what} `{wrong}`");
    let help = match suggest(wrong, candidates.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let mut all: Vec<&str> = candidates.into_iter().collect();
            all.sort_unstable();
            if all.is_empty() {
                format!("no {what} is defined yet; define it first")
            } else if all.len() <= 12 {
                format!("valid values: {}", all.join(", "))
            } else {
                format!(
                    "valid values include: {}, … (see `demarc catalog list`)",
                    all[..12].join(", ")
                )
            }
        }
    };
    (message, help)
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
}
