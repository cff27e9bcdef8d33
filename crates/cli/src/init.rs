//! `demarc init`: a starting estate that validates and shows each section once.

use std::path::Path;

use crate::InputError;

const TEMPLATE: &str = r#"# demarc estate: who is responsible for what. Reference: docs/estate-format.md
# Check it with:  demarc check {path}   (or just `demarc check` in this directory or below)
version: 1
estate: {name}
customer: me                       # the party that owns the data; always accountable

settings:
  review_cadence: 90d
  frameworks: [soc2]               # providers must attest to these

parties:
  me:
    kind: customer
    name: My Company
    teams:
      platform: {contact: platform@example.com}
      secops:   {contact: secops@example.com}
  aws:
    kind: provider
    name: Amazon Web Services
    attestations:
      - {framework: soc2, period_end: {period_end}}   # the end of the period the report covers

contracts: []                      # MSSPs and vendors: clauses put duties in writing

assignments:                       # your own teams, in writing
  - {scope: {service: "aws:*"}, duties: [configure, patch], to: me/platform}
  - {scope: {}, duties: [monitor, respond, audit], to: me/secops}

assets:
  - {id: web-01, service: aws:ec2, env: prod, data: [pii]}
  - {id: uploads, service: aws:s3, env: prod}

evidence: []
reviews: []
"#;

/// The end of the scaffold's example attestation period: about three months before `today`,
/// so a new estate's attestation is current (reports are typically issued a quarter after the
/// period they cover) and stays valid for most of a year, whatever day `init` runs.
pub fn period_end(today: chrono::NaiveDate) -> chrono::NaiveDate {
    today - chrono::Days::new(90)
}

pub fn run(dir: &Path, name: &str, force: bool) -> Result<u8, InputError> {
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || name.is_empty()
    {
        return Err(InputError(format!(
            "error: `{name}` is not a valid estate name\n  help: use letters, digits, `-`, `_` or `.`"
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| InputError(format!("error: cannot create {}: {e}", dir.display())))?;
    let file = dir.join("estate.yaml");
    if file.exists() && !force {
        return Err(InputError(format!(
            "error: {} already exists\n  help: pass --force to overwrite it, or choose another directory",
            file.display()
        )));
    }
    let text = TEMPLATE
        .replace("{name}", name)
        .replace("{path}", &dir.display().to_string())
        .replace(
            "{period_end}",
            &period_end(chrono::Local::now().date_naive()).to_string(),
        );
    crate::write_atomic(&file, &text)?;
    // `demarc check` with no path finds this directory's estate.yaml from here or below it.
    eprintln!(
        "wrote {}; next: demarc check {}",
        file.display(),
        dir.display()
    );
    Ok(0)
}
