//! Snapshots: the normalised findings of one ingest, as JSON Lines under
//! `<estate>/.demarc/findings/<as-of>.ndjson`. The first line is a [`Header`], the last an
//! [`End`] (so a cut-off file is detected); every line between is one [`Finding`]. The caller
//! writes the file atomically; this module only makes and reads the lines.

use std::io::Read;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, SourceFormat};
use crate::read::{ElementError, Layout, ReadError, ReadOptions, stream};

/// The schema id in every snapshot's header.
pub const SCHEMA: &str = "demarc.findings-snapshot/v1";
/// The directory, relative to the estate directory, that holds the snapshots.
pub const DIR: &str = ".demarc/findings";

/// The first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub schema: String,
    /// The snapshot's date: the as-of date of the ingest.
    pub as_of: NaiveDate,
    /// The input files, in the order given.
    pub sources: Vec<String>,
}

/// One input file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub path: String,
    pub format: Option<SourceFormat>,
    pub findings: u64,
    pub bytes: u64,
}

/// The last line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    pub end: bool,
    pub findings: u64,
    pub sources: Vec<SourceInfo>,
}

/// The snapshot file name for a date.
pub fn file_name(as_of: NaiveDate) -> String {
    format!("{as_of}.ndjson")
}

/// Of these file names, the snapshot to read as of a date: the latest dated on or before it.
pub fn pick<'a>(names: impl IntoIterator<Item = &'a str>, as_of: NaiveDate) -> Option<NaiveDate> {
    names
        .into_iter()
        .filter_map(|n| n.strip_suffix(".ndjson"))
        .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(|d| *d <= as_of)
        .max()
}

/// Appends a JSON line.
pub fn line<T: Serialize>(v: &T, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, v).expect("snapshot lines serialise");
    out.push(b'\n');
}

/// What [`read`] found besides the findings.
#[derive(Debug, Clone)]
pub struct Info {
    pub header: Header,
    pub end: End,
}

enum Item<T> {
    Header(Header),
    Finding(T),
    End(End),
}

/// Reads a snapshot, calling `map` on worker threads and `sink` in file order.
pub fn read<T: Send>(
    input: impl Read,
    options: ReadOptions,
    map: &(dyn Fn(Finding) -> T + Sync),
    sink: &mut dyn FnMut(T) -> Result<(), String>,
    progress: &mut dyn FnMut(u64),
) -> Result<Info, ReadError> {
    let mut header: Option<Header> = None;
    let mut end: Option<End> = None;
    let mut count = 0u64;
    let bad = |m: String| ReadError {
        offset: None,
        record: None,
        message: m,
    };
    stream(
        Vec::new(),
        input,
        Layout::Sequence,
        options.workers,
        crate::read::BLOCK,
        &|b, _| {
            let json = |e| ElementError::json(b, e);
            if b.starts_with(b"{\"schema\"") {
                serde_json::from_slice(b).map(Item::Header).map_err(json)
            } else if b.starts_with(b"{\"end\"") {
                serde_json::from_slice(b).map(Item::End).map_err(json)
            } else {
                serde_json::from_slice::<Finding>(b)
                    .map(|f| Item::Finding(map(f)))
                    .map_err(json)
            }
        },
        &mut |item| {
            if end.is_some() {
                return Err("content after the snapshot's last line".into());
            }
            match item {
                Item::Header(h) if header.is_none() && count == 0 => {
                    if h.schema != SCHEMA {
                        return Err(format!("snapshot schema `{}` is not `{SCHEMA}`", h.schema));
                    }
                    header = Some(h);
                    Ok(())
                }
                Item::Header(_) => Err("a second snapshot header".into()),
                Item::Finding(t) => {
                    if header.is_none() {
                        return Err("the snapshot has no header line".into());
                    }
                    count += 1;
                    sink(t)
                }
                Item::End(e) => {
                    end = Some(e);
                    Ok(())
                }
            }
        },
        progress,
    )?;
    let header = header.ok_or_else(|| bad("the snapshot is empty".into()))?;
    let end = end.ok_or_else(|| {
        bad("the snapshot is incomplete (no end line): ingest the findings again".into())
    })?;
    if end.findings != count {
        return Err(bad(format!(
            "the snapshot says {} findings but holds {count}",
            end.findings
        )));
    }
    Ok(Info { header, end })
}

/// The first-seen dates demarc gave findings whose tool gives none (`seen_by_ingest`), by
/// finding key, from a snapshot: the next ingest carries them so a finding keeps the day it
/// was first ingested. Only those findings are kept, so a Prowler-sized snapshot costs little.
pub fn first_seen_by_ingest(
    input: impl Read,
) -> Result<std::collections::HashMap<u64, NaiveDate>, ReadError> {
    let mut out = std::collections::HashMap::new();
    let map = |f: Finding| {
        f.seen_by_ingest
            .then(|| f.first_seen.map(|d| (f.key(), d)))
            .flatten()
    };
    read(
        input,
        ReadOptions::default(),
        &map,
        &mut |x| {
            if let Some((k, d)) = x {
                let e = out.entry(k).or_insert(d);
                *e = (*e).min(d);
            }
            Ok(())
        },
        &mut |_| {},
    )?;
    Ok(out)
}

/// Why [`write`] stopped. Nothing it wrote is a usable snapshot then.
#[derive(Debug)]
pub enum WriteError {
    /// Input `index` (of the inputs given) could not be read.
    Read { index: usize, error: ReadError },
    /// The output could not be written.
    Write(std::io::Error),
}

/// One source of a snapshot.
pub enum Input<'a> {
    /// A findings file (Prowler OCSF, ASFF or SARIF), read as a stream.
    Read(Box<dyn Read + 'a>),
    /// Findings made in memory: demarc's Rego results over the inventory
    /// ([`SourceFormat::Rego`]), attributed and stored like any tool's.
    Findings(SourceFormat, Vec<Finding>),
}

/// Reads findings files (Prowler OCSF, ASFF, SARIF) and in-memory findings into one snapshot written to `out`: the
/// header, every finding in input order, the end line. A finding whose tool gives no
/// first-seen date gets the one `carried` holds for it (see [`first_seen_by_ingest`]), else
/// `as_of`. Each finding is attributed with `at` and counted in `summary`. `progress` is told
/// the input index and its bytes read so far. Returns what each input held.
pub fn write(
    out: &mut dyn std::io::Write,
    as_of: NaiveDate,
    inputs: Vec<(String, Input<'_>)>,
    carried: &std::collections::HashMap<u64, NaiveDate>,
    at: &crate::Attributor<'_>,
    summary: &mut crate::Summary,
    progress: &mut dyn FnMut(usize, u64),
) -> Result<Vec<SourceInfo>, WriteError> {
    let by = summary.by;
    let mut buf = Vec::new();
    line(
        &Header {
            schema: SCHEMA.into(),
            as_of,
            sources: inputs.iter().map(|(n, _)| n.clone()).collect(),
        },
        &mut buf,
    );
    out.write_all(&buf).map_err(WriteError::Write)?;
    let mut sources = Vec::new();
    let mut total = 0u64;
    for (index, (name, input)) in inputs.into_iter().enumerate() {
        let map = |mut x: Finding| {
            if x.first_seen.is_none() {
                x.first_seen = Some(carried.get(&x.key()).copied().unwrap_or(as_of));
                x.seen_by_ingest = true;
            }
            let a = at.attribute(&x);
            let fact = crate::Fact::new(by, at, &x, &a);
            let mut l = Vec::with_capacity(512);
            line(&x, &mut l);
            (l, fact)
        };
        let (format, findings, bytes) = match input {
            Input::Read(input) => {
                let mut write_err = None;
                let read = crate::read_findings(
                    input,
                    index as u32,
                    ReadOptions::default(),
                    &map,
                    &mut |(l, fact): (Vec<u8>, crate::Fact)| {
                        if let Err(e) = out.write_all(&l) {
                            write_err = Some(e);
                            return Err("cannot write the snapshot".into());
                        }
                        summary.add(&fact);
                        Ok(())
                    },
                    &mut |n| progress(index, n),
                );
                if let Some(e) = write_err {
                    return Err(WriteError::Write(e));
                }
                let read = read.map_err(|error| WriteError::Read { index, error })?;
                (read.format, read.findings, read.bytes)
            }
            Input::Findings(format, list) => {
                let n = list.len() as u64;
                for (i, mut f) in list.into_iter().enumerate() {
                    f.source = index as u32;
                    f.record = i as u64 + 1;
                    let (l, fact) = map(f);
                    out.write_all(&l).map_err(WriteError::Write)?;
                    summary.add(&fact);
                }
                (Some(format), n, 0)
            }
        };
        total += findings;
        sources.push(SourceInfo {
            path: name,
            format,
            findings,
            bytes,
        });
    }
    buf.clear();
    line(
        &End {
            end: true,
            findings: total,
            sources: sources.clone(),
        },
        &mut buf,
    );
    out.write_all(&buf).map_err(WriteError::Write)?;
    Ok(sources)
}
