//! `demarc catalog list|show`: browse controls, services, models, frameworks, layers, duties.

use clap::{Subcommand, ValueEnum};
use demarc_catalog::{Catalog, Entry};
use demarc_model::{Duty, suggest};
use demarc_report::{Format, Grid};

use crate::{FormatArg, InputError, json_out, print};

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// List one kind of catalog entry.
    List {
        #[arg(value_enum, default_value_t = Kind::Controls)]
        kind: Kind,
        #[arg(short, long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// Show one control, service or model in full.
    Show {
        id: String,
        #[arg(short, long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Controls,
    Services,
    Models,
    Frameworks,
    Layers,
    Duties,
}

fn entry_text(e: &Entry) -> String {
    let mut s = e.owner.as_str().to_string();
    if let Some(p) = &e.provider {
        s.push_str(&format!("; provider: {p}"));
    }
    if let Some(c) = &e.customer {
        s.push_str(&format!("; customer: {c}"));
    }
    for (d, o) in &e.duties {
        s.push_str(&format!("; {d}: {}", o.as_str()));
    }
    s
}

pub fn run(cat: &Catalog, cmd: CatalogCommand) -> Result<u8, InputError> {
    match cmd {
        CatalogCommand::List { kind, format } => {
            let format: Format = format.into();
            if format == Format::Json {
                let v = match kind {
                    Kind::Controls => serde_json::to_value(&cat.controls),
                    Kind::Services => serde_json::to_value(&cat.services),
                    Kind::Models => serde_json::to_value(&cat.models),
                    Kind::Frameworks => serde_json::to_value(&cat.frameworks),
                    Kind::Layers => serde_json::to_value(&cat.layers),
                    Kind::Duties => serde_json::to_value(&cat.duties),
                }?;
                print(&json_out(&v))?;
                return Ok(0);
            }
            let g = match kind {
                Kind::Controls => {
                    let mut g =
                        Grid::new(["id", "name", "layer", "duties", "evidence", "nist-800-53"]);
                    for c in &cat.controls {
                        g.row([
                            c.id.clone(),
                            c.name.clone(),
                            c.layer.clone(),
                            c.duties
                                .iter()
                                .map(|d| d.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            if c.evidence { "yes" } else { "" }.to_string(),
                            c.mappings
                                .get("nist-800-53")
                                .map(|m| {
                                    m.iter()
                                        .map(|m| cat.mapping_label("nist-800-53", m))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                })
                                .unwrap_or_default(),
                        ]);
                    }
                    g
                }
                Kind::Services => {
                    let mut g = Grid::new(["id", "name", "provider", "model", "source"]);
                    for s in &cat.services {
                        g.row([
                            s.id.clone(),
                            s.name.clone(),
                            s.provider.clone(),
                            s.model.clone(),
                            s.source.link(),
                        ]);
                    }
                    g
                }
                Kind::Models => {
                    let mut g = Grid::new(["id", "name", "layers", "source"]);
                    for m in &cat.models {
                        g.row([
                            m.id.clone(),
                            m.name.clone(),
                            m.layers.len().to_string(),
                            m.source.link(),
                        ]);
                    }
                    g
                }
                Kind::Frameworks => {
                    let mut g = Grid::new(["id", "name", "version", "kind", "url"]);
                    for f in &cat.frameworks {
                        g.row([
                            f.id.clone(),
                            f.name.clone(),
                            f.version.clone(),
                            format!("{:?}", f.kind).to_lowercase(),
                            f.url.clone(),
                        ]);
                    }
                    g
                }
                Kind::Layers => {
                    let mut g = Grid::new(["id", "name", "description"]);
                    for l in &cat.layers {
                        g.row([l.id.clone(), l.name.clone(), l.description.clone()]);
                    }
                    g
                }
                Kind::Duties => {
                    let mut g = Grid::new(["id", "name", "description"]);
                    for d in &cat.duties {
                        g.row([d.id.to_string(), d.name.clone(), d.description.clone()]);
                    }
                    g
                }
            };
            print(&g.render_for(format, crate::term()))?;
            Ok(0)
        }
        CatalogCommand::Show { id, format } => {
            let format: Format = format.into();
            if let Some(c) = cat.control(&id) {
                if format == Format::Json {
                    print(&json_out(c))?;
                    return Ok(0);
                }
                let mut out = format!(
                    "{} — {}\n  layer: {}\n  duties: {}\n  {}\n",
                    c.id,
                    c.name,
                    c.layer,
                    c.duties
                        .iter()
                        .map(|d| d.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    c.description
                );
                if c.evidence {
                    out.push_str("  evidence: required where the customer performs it\n");
                }
                out.push_str("  mappings:\n");
                for (fw, ids) in &c.mappings {
                    out.push_str(&format!(
                        "    {fw}: {}\n",
                        ids.iter()
                            .map(|m| cat.mapping_label(fw.as_str(), m))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                // CSV must stay machine-readable: the prose header goes with tables and Markdown.
                if matches!(format, Format::Table | Format::Md) {
                    print(&out)?;
                }
                // Only the duties the control has: a column for a duty it does not have
                // would be empty on every row.
                let duties: Vec<Duty> = Duty::ALL
                    .into_iter()
                    .filter(|d| c.duties.contains(d))
                    .collect();
                let mut g = Grid::new(
                    ["service", "model"]
                        .into_iter()
                        .chain(duties.iter().map(|d| d.as_str())),
                );
                for s in &cat.services {
                    let mut row = vec![s.id.clone(), s.model.clone()];
                    for &d in &duties {
                        row.push(
                            cat.responsibility(&s.model, Some(s), &c.id, d)
                                .map(|f| f.owner.as_str().to_string())
                                .unwrap_or_else(|| "n/a".into()),
                        );
                    }
                    g.row(row);
                }
                print(&g.render_for(format, crate::term()))?;
                return Ok(0);
            }
            let (name, model, source, layers, controls, notes) = if let Some(s) = cat.service(&id) {
                (
                    &s.name,
                    Some(&s.model),
                    &s.source,
                    &s.layers,
                    &s.controls,
                    s.notes.clone(),
                )
            } else if let Some(m) = cat.model(&id) {
                (
                    &m.name,
                    None,
                    &m.source,
                    &m.layers,
                    &m.controls,
                    Some(m.description.clone()),
                )
            } else {
                let all = cat
                    .controls
                    .iter()
                    .map(|c| c.id.as_str())
                    .chain(cat.services.iter().map(|s| s.id.as_str()))
                    .chain(cat.models.iter().map(|m| m.id.as_str()));
                let hint = suggest(&id, all)
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| "see `demarc catalog list`".into());
                return Err(InputError(format!(
                    "error: no control, service or model `{id}` in the catalog\n  help: {hint}"
                )));
            };
            if format == Format::Json {
                let v = cat
                    .service(&id)
                    .map(serde_json::to_value)
                    .or_else(|| cat.model(&id).map(serde_json::to_value))
                    .expect("found above")?;
                print(&json_out(&v))?;
                return Ok(0);
            }
            let mut out = format!("{id} — {name}\n");
            if let Some(m) = model {
                out.push_str(&format!("  model: {m}\n"));
            }
            out.push_str(&format!(
                "  source: {} <{}> (checked {})\n",
                source.title,
                source.link(),
                source.checked
            ));
            if let Some(n) = notes {
                out.push_str(&format!("  notes: {n}\n"));
            }
            if matches!(format, Format::Table | Format::Md) {
                print(&out)?;
            }
            let mut g = Grid::new(["layer/control", "responsibility"]);
            for (k, e) in layers {
                g.row([format!("layer {k}"), entry_text(e)]);
            }
            for (k, e) in controls {
                g.row([format!("control {k}"), entry_text(e)]);
            }
            print(&g.render_for(format, crate::term()))?;
            Ok(0)
        }
    }
}
