//! Streaming readers. A file is recognised from its first bytes, then its findings array
//! (a top-level array, the `Findings` list of an ASFF object, or a sequence of top-level
//! objects such as a snapshot's JSON Lines) is split into elements by a byte scanner that
//! tracks strings and nesting only. Blocks of whole elements go to worker threads, which parse
//! each element with serde_json into borrowed structs and map it (normalise, attribute,
//! serialise); results come back to the caller's sink in file order. Memory holds a few blocks
//! at a time, whatever the file's size. SARIF files (one document of runs) are read whole.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::finding::{Finding, SourceFormat};

/// Bytes read per block. A few blocks are in flight per worker; 256 KiB holds about 80 Prowler
/// findings, and went as fast as 1 MiB blocks with 11 MiB less peak memory.
pub(crate) const BLOCK: usize = 1 << 18;
/// The largest single finding accepted.
const MAX_ELEMENT: usize = 64 << 20;
/// The largest SARIF document accepted (SARIF is read whole).
pub const MAX_SARIF_BYTES: usize = 1 << 30;

/// Why a findings file could not be read. Nothing read from a file that fails counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// Byte offset in the file where the problem is, when known.
    pub offset: Option<u64>,
    /// The finding (1-based) being read.
    pub record: Option<u64>,
    pub message: String,
}

impl ReadError {
    fn at(offset: u64, record: Option<u64>, message: impl Into<String>) -> ReadError {
        ReadError {
            offset: Some(offset),
            record,
            message: message.into(),
        }
    }
    fn whole(message: impl Into<String>) -> ReadError {
        ReadError {
            offset: None,
            record: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.offset, self.record) {
            (Some(o), Some(r)) => write!(f, "byte {o} (finding {r}): {}", self.message),
            (Some(o), None) => write!(f, "byte {o}: {}", self.message),
            (None, Some(r)) => write!(f, "finding {r}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ReadError {}

/// What reading one file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSummary {
    pub format: Option<SourceFormat>,
    pub findings: u64,
    pub bytes: u64,
}

/// How the elements to stream are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `[ {...}, {...} ]`
    Array,
    /// `{ "Findings": [ {...} ], ... }`
    FindingsKey,
    /// `{...} {...}` (JSON Lines, or one object).
    Sequence,
}

/// Options for [`read_findings`].
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Parser threads (at least 1).
    pub workers: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .clamp(1, 8),
        }
    }
}

/// Reads one findings file (Prowler OCSF, ASFF or SARIF, recognised from its content),
/// calling `map` on a worker thread for each finding and `sink` on the caller's thread with
/// the results, in file order. `progress` is told the bytes read so far. `source` is stored in
/// each finding ([`Finding::source`]).
pub fn read_findings<T: Send>(
    mut input: impl Read,
    source: u32,
    options: ReadOptions,
    map: &(dyn Fn(Finding) -> T + Sync),
    sink: &mut dyn FnMut(T) -> Result<(), String>,
    progress: &mut dyn FnMut(u64),
) -> Result<ReadSummary, ReadError> {
    let mut head = Vec::with_capacity(BLOCK);
    fill(&mut input, &mut head, 64 << 10)?;
    let start = first_byte(&head);
    let Some(start) = start else {
        return Err(ReadError::whole(
            "the file is empty: expected Prowler OCSF JSON (an array of findings), AWS Security Hub ASFF or SARIF 2.1.0",
        ));
    };
    let peek = &head[start..head.len().min(start + (64 << 10))];
    let format = detect(peek)?;
    match format {
        Detected::Sarif => {
            let mut all = head;
            (&mut input)
                .take((MAX_SARIF_BYTES + 1 - all.len().min(MAX_SARIF_BYTES)) as u64)
                .read_to_end(&mut all)
                .map_err(|e| ReadError::whole(format!("cannot read: {e}")))?;
            if all.len() > MAX_SARIF_BYTES {
                return Err(ReadError::whole("a SARIF file may not exceed 1 GiB"));
            }
            progress(all.len() as u64);
            let findings = crate::formats::sarif(&all, source)?;
            let n = findings.len() as u64;
            for f in findings {
                sink(map(f)).map_err(ReadError::whole)?;
            }
            Ok(ReadSummary {
                format: Some(SourceFormat::Sarif),
                findings: n,
                bytes: all.len() as u64,
            })
        }
        Detected::Elements(layout) => {
            let parse = move |bytes: &[u8], record: u64| -> Result<Finding, ElementError> {
                crate::formats::element(bytes, source, record)
            };
            let mut seen_format = None;
            let (n, bytes) = stream(
                head,
                input,
                layout,
                options.workers,
                BLOCK,
                &|b, r| {
                    let f = parse(b, r)?;
                    Ok((f.format, map(f)))
                },
                &mut |(fmt, t)| {
                    seen_format.get_or_insert(fmt);
                    sink(t)
                },
                progress,
            )?;
            Ok(ReadSummary {
                format: seen_format.or(match layout {
                    Layout::FindingsKey => Some(SourceFormat::Asff),
                    _ => None,
                }),
                findings: n,
                bytes,
            })
        }
    }
}

enum Detected {
    Sarif,
    Elements(Layout),
}

fn detect(peek: &[u8]) -> Result<Detected, ReadError> {
    let has = |needle: &[u8]| memchr::memmem::find(peek, needle).is_some();
    match peek[0] {
        b'[' => Ok(Detected::Elements(Layout::Array)),
        b'{' => {
            if has(b"\"runs\"") && (has(b"sarif") || has(b"\"2.1.0\"")) {
                Ok(Detected::Sarif)
            } else if has(b"\"Findings\"") {
                Ok(Detected::Elements(Layout::FindingsKey))
            } else if has(b"\"class_uid\"") || has(b"\"SchemaVersion\"") || has(b"\"finding_info\"")
            {
                Ok(Detected::Elements(Layout::Sequence))
            } else {
                Err(ReadError::at(
                    0,
                    None,
                    "not a findings file: a JSON object that is neither SARIF (`runs`), AWS Security Hub ASFF (`Findings`) nor an OCSF finding (`class_uid`)",
                ))
            }
        }
        c => Err(ReadError::at(
            0,
            None,
            format!(
                "not a findings file: it starts with `{}`; expected Prowler OCSF JSON (an array of findings), AWS Security Hub ASFF or SARIF 2.1.0",
                char::from(c).escape_default()
            ),
        )),
    }
}

fn first_byte(b: &[u8]) -> Option<usize> {
    let b0 = if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    b[b0..]
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .map(|p| p + b0)
}

/// Appends up to `want` bytes (fewer only at the end of the input).
fn fill(input: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> Result<usize, ReadError> {
    let start = buf.len();
    buf.resize(start + want, 0);
    let mut got = 0;
    while got < want {
        match input.read(&mut buf[start + got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(start + got);
                return Err(ReadError::whole(format!("cannot read: {e}")));
            }
        }
    }
    buf.truncate(start + got);
    Ok(got)
}

/// A problem in one element: a message and the byte offset within the element.
pub(crate) struct ElementError {
    pub offset: usize,
    pub message: String,
}

impl ElementError {
    pub(crate) fn json(bytes: &[u8], e: serde_json::Error) -> ElementError {
        // serde_json counts lines and columns from 1; turn them back into an offset.
        let mut offset = 0;
        let mut line = 1;
        while line < e.line() {
            match memchr::memchr(b'\n', &bytes[offset..]) {
                Some(p) => offset += p + 1,
                None => break,
            }
            line += 1;
        }
        offset = (offset + e.column().saturating_sub(1)).min(bytes.len());
        let msg = e.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map(|(m, _)| m.to_string())
            .unwrap_or(msg);
        ElementError {
            offset,
            message: msg,
        }
    }
}

/// A block of whole elements for a worker.
struct Job {
    seq: u64,
    base: u64,
    first_record: u64,
    buf: Arc<Vec<u8>>,
    ranges: Vec<(usize, usize)>,
}

type Parsed<T> = Result<Vec<T>, ReadError>;

/// Parses one element (its bytes, its 1-based number).
pub(crate) type ParseFn<'a, T> = &'a (dyn Fn(&[u8], u64) -> Result<T, ElementError> + Sync);

/// Splits the input into elements, reading `block` bytes at a time ([`BLOCK`] but in tests),
/// and parses them on `workers` threads; returns the number of elements and of bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stream<T: Send>(
    head: Vec<u8>,
    mut input: impl Read,
    layout: Layout,
    workers: usize,
    block: usize,
    parse: ParseFn<'_, T>,
    sink: &mut dyn FnMut(T) -> Result<(), String>,
    progress: &mut dyn FnMut(u64),
) -> Result<(u64, u64), ReadError> {
    let workers = workers.max(1);
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(workers + 1);
    let job_rx = Mutex::new(job_rx);
    let (res_tx, res_rx) = mpsc::channel::<(u64, Parsed<T>)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let res_tx = res_tx.clone();
            let job_rx = &job_rx;
            scope.spawn(move || {
                loop {
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    let mut out = Vec::with_capacity(job.ranges.len());
                    let mut failed = None;
                    for (i, &(s, e)) in job.ranges.iter().enumerate() {
                        let record = job.first_record + i as u64;
                        match parse(&job.buf[s..e], record) {
                            Ok(t) => out.push(t),
                            Err(err) => {
                                failed = Some(ReadError::at(
                                    job.base + (s + err.offset) as u64,
                                    Some(record),
                                    err.message,
                                ));
                                break;
                            }
                        }
                    }
                    let r = match failed {
                        Some(e) => Err(e),
                        None => Ok(out),
                    };
                    if res_tx.send((job.seq, r)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(res_tx);
        let mut pending: BTreeMap<u64, Parsed<T>> = BTreeMap::new();
        let mut next = 0u64;
        let mut error: Option<ReadError> = None;
        let mut drain = |pending: &mut BTreeMap<u64, Parsed<T>>,
                         next: &mut u64,
                         error: &mut Option<ReadError>| {
            while let Some(r) = pending.remove(next) {
                *next += 1;
                if error.is_some() {
                    continue;
                }
                match r {
                    Ok(items) => {
                        for t in items {
                            if let Err(m) = sink(t) {
                                *error = Some(ReadError::whole(m));
                                break;
                            }
                        }
                    }
                    Err(e) => *error = Some(e),
                }
            }
        };
        let result = split(
            head,
            &mut input,
            layout,
            block,
            &mut |job: Job| {
                let mut job = Some(job);
                loop {
                    while let Ok((seq, r)) = res_rx.try_recv() {
                        pending.insert(seq, r);
                    }
                    drain(&mut pending, &mut next, &mut error);
                    if error.is_some() {
                        return false;
                    }
                    match job_tx.try_send(job.take().expect("job")) {
                        Ok(()) => return true,
                        Err(mpsc::TrySendError::Full(j)) => {
                            job = Some(j);
                            // Wait for a result rather than spin.
                            if let Ok((seq, r)) = res_rx.recv() {
                                pending.insert(seq, r);
                            }
                        }
                        Err(mpsc::TrySendError::Disconnected(_)) => return false,
                    }
                }
            },
            progress,
        );
        drop(job_tx);
        for (seq, r) in res_rx.iter() {
            pending.insert(seq, r);
            drain(&mut pending, &mut next, &mut error);
        }
        drain(&mut pending, &mut next, &mut error);
        match (result, error) {
            (Err(e), _) | (Ok(_), Some(e)) => Err(e),
            (Ok(n), None) => Ok(n),
        }
    })
}

/// The scanner's state between blocks.
struct Scanner {
    layout: Layout,
    depth: u32,
    in_str: bool,
    esc: bool,
    /// Inside the array (or sequence) whose elements are streamed.
    active: bool,
    /// The array has been closed.
    closed: bool,
    /// Depth at which elements start.
    target: u32,
    /// Start of the element being scanned, in the current buffer.
    elem: Option<usize>,
    after_comma: bool,
    /// For ASFF: the last string at depth 1 (a key, when followed by `:`).
    key: Vec<u8>,
    key_is_findings: bool,
    value_is_findings: bool,
    started: bool,
}

/// Runs the scanner over the input, handing blocks of whole elements to `emit` (which returns
/// false to stop). Returns (elements, bytes).
fn split(
    mut buf: Vec<u8>,
    input: &mut impl Read,
    layout: Layout,
    block: usize,
    emit: &mut dyn FnMut(Job) -> bool,
    progress: &mut dyn FnMut(u64),
) -> Result<(u64, u64), ReadError> {
    let mut sc = Scanner {
        layout,
        depth: 0,
        in_str: false,
        esc: false,
        active: layout == Layout::Sequence,
        closed: false,
        target: match layout {
            Layout::Array => 1,
            Layout::FindingsKey => 2,
            Layout::Sequence => 0,
        },
        elem: None,
        after_comma: false,
        key: Vec::new(),
        key_is_findings: false,
        value_is_findings: false,
        started: false,
    };
    let mut base = 0u64;
    let mut pos = 0usize;
    let mut records = 0u64;
    let mut seq = 0u64;
    let mut eof = false;
    // Skip a byte order mark.
    if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        pos = 3;
    }
    loop {
        let mut ranges = Vec::new();
        scan(&mut sc, &buf, &mut pos, base, &mut ranges)?;
        progress(base + buf.len() as u64);
        let keep = sc.elem.unwrap_or(buf.len());
        if !ranges.is_empty() {
            let tail = buf[keep..].to_vec();
            let n = ranges.len() as u64;
            let job = Job {
                seq,
                base,
                first_record: records + 1,
                buf: Arc::new(std::mem::replace(&mut buf, tail)),
                ranges,
            };
            seq += 1;
            records += n;
            if !emit(job) {
                return Ok((records, base));
            }
        } else if keep > 0 {
            buf.drain(..keep);
        }
        base += keep as u64;
        pos -= keep;
        if let Some(e) = sc.elem.as_mut() {
            *e -= keep;
        }
        if eof {
            break;
        }
        if buf.len() > MAX_ELEMENT {
            return Err(ReadError::at(
                base,
                Some(records + 1),
                "a single finding is larger than 64 MiB",
            ));
        }
        if fill(input, &mut buf, block)? == 0 {
            eof = true;
        }
    }
    let end = base + buf.len() as u64;
    if sc.in_str || sc.depth > 0 || (sc.layout != Layout::Sequence && !sc.closed) {
        let what = if sc.active && sc.elem.is_some() {
            format!(
                "the file is truncated: finding {} is incomplete and the findings list is not closed",
                records + 1
            )
        } else if sc.layout == Layout::FindingsKey && !sc.closed && sc.depth == 0 {
            "the ASFF object has no `Findings` list".to_string()
        } else {
            "the file is truncated: the findings list is not closed".to_string()
        };
        return Err(ReadError::at(end, Some(records + 1), what));
    }
    Ok((records, end))
}

/// The end of `buf[s..e]` without trailing whitespace.
fn trim_end(buf: &[u8], s: usize, mut e: usize) -> usize {
    while e > s && buf[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    e
}

/// Byte classes outside strings.
const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    t[b'"' as usize] = 1;
    t[b'{' as usize] = 2;
    t[b'[' as usize] = 2;
    t[b'}' as usize] = 3;
    t[b']' as usize] = 3;
    t[b',' as usize] = 4;
    t[b':' as usize] = 5;
    t[b' ' as usize] = 9;
    t[b'\n' as usize] = 9;
    t[b'\r' as usize] = 9;
    t[b'\t' as usize] = 9;
    t
}
static CLASS: [u8; 256] = classes();

/// Bytes that matter inside a finding, as bit masks over (at most) 64 bytes from `at`: quotes,
/// backslashes, opening and closing brackets. Bit k is byte `at + k`.
#[derive(Clone, Copy)]
struct Masks {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

#[inline(always)]
fn masks(chunk: &[u8; 64]) -> Masks {
    #[cfg(target_arch = "x86_64")]
    {
        // SSE2 is part of x86_64: no feature detection needed.
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is always available on x86_64, and each load reads 16 bytes inside
        // the 64-byte array (`loadu` has no alignment requirement).
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            // `{` 0x7B and `[` 0x5B differ only in bit 0x20, as do `}` 0x7D and `]` 0x5D; no
            // other byte becomes 0x7B or 0x7D with that bit set.
            let case = _mm_set1_epi8(0x20);
            let open = _mm_set1_epi8(0x7B);
            let close = _mm_set1_epi8(0x7D);
            let mut m = Masks {
                quote: 0,
                backslash: 0,
                open: 0,
                close: 0,
            };
            for k in 0..4 {
                let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k) as *const __m128i);
                let folded = _mm_or_si128(v, case);
                let bits = |x: __m128i| (_mm_movemask_epi8(x) as u32 as u64) << (16 * k);
                m.quote |= bits(_mm_cmpeq_epi8(v, quote));
                m.backslash |= bits(_mm_cmpeq_epi8(v, backslash));
                m.open |= bits(_mm_cmpeq_epi8(folded, open));
                m.close |= bits(_mm_cmpeq_epi8(folded, close));
            }
            m
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut m = Masks {
            quote: 0,
            backslash: 0,
            open: 0,
            close: 0,
        };
        for (k, &c) in chunk.iter().enumerate() {
            let bit = 1u64 << k;
            match c {
                b'"' => m.quote |= bit,
                b'\\' => m.backslash |= bit,
                b'{' | b'[' => m.open |= bit,
                b'}' | b']' => m.close |= bit,
                _ => {}
            }
        }
        m
    }
}

/// Runs through the inside of a finding (`sc.depth > sc.target`) from `i`, tracking strings,
/// escapes and nesting only. Returns the position of the bracket that closes the finding
/// (left for [`scan`] to handle, with `sc.depth` still one above the target), or the end of
/// the buffer with the state saved in `sc`.
fn skip_inside(sc: &mut Scanner, buf: &[u8], mut i: usize, base: u64) -> Result<usize, ReadError> {
    let n = buf.len();
    let mut depth = sc.depth;
    let mut in_str = sc.in_str;
    // The position of the byte a backslash escapes (never an event of its own).
    let mut escaped = if sc.esc { i } else { usize::MAX };
    sc.esc = false;
    let mut pad;
    while i < n {
        let len = (n - i).min(64);
        let chunk: &[u8; 64] = match buf[i..].first_chunk::<64>() {
            Some(c) => c,
            None => {
                // The buffer's tail: zero bytes are never events.
                pad = [0u8; 64];
                pad[..len].copy_from_slice(&buf[i..n]);
                &pad
            }
        };
        let m = masks(chunk);
        let mut events = m.quote | m.backslash | m.open | m.close;
        while events != 0 {
            let k = events.trailing_zeros() as usize;
            events &= events - 1;
            let p = i + k;
            if p == escaped {
                continue;
            }
            let bit = 1u64 << k;
            if in_str {
                if m.quote & bit != 0 {
                    in_str = false;
                } else if m.backslash & bit != 0 {
                    escaped = p + 1;
                }
            } else if m.quote & bit != 0 {
                in_str = true;
            } else if m.open & bit != 0 {
                depth += 1;
                if depth > 512 {
                    return Err(ReadError::at(
                        base + p as u64,
                        None,
                        "nested more than 512 levels deep".to_string(),
                    ));
                }
            } else if m.close & bit != 0 {
                if depth == sc.target + 1 {
                    sc.depth = depth;
                    sc.in_str = false;
                    return Ok(p);
                }
                depth -= 1;
            }
        }
        i += len;
    }
    sc.depth = depth;
    sc.in_str = in_str;
    sc.esc = escaped == n;
    Ok(n)
}

fn scan(
    sc: &mut Scanner,
    buf: &[u8],
    pos: &mut usize,
    base: u64,
    ranges: &mut Vec<(usize, usize)>,
) -> Result<(), ReadError> {
    let n = buf.len();
    let mut i = *pos;
    let err = |i: usize, m: &str| Err(ReadError::at(base + i as u64, None, m.to_string()));
    while i < n {
        // Inside a finding only strings and brackets matter (keys, commas and values are the
        // parser's business): skip to the byte that closes it, 64 bytes at a time.
        if sc.depth > sc.target {
            i = skip_inside(sc, buf, i, base)?;
            if i == n {
                break;
            }
        }
        if sc.in_str {
            if sc.esc {
                sc.esc = false;
                i += 1;
                continue;
            }
            let collecting = sc.layout == Layout::FindingsKey && sc.depth == 1;
            match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                Some(p) => {
                    if collecting && sc.key.len() < 32 {
                        sc.key.extend_from_slice(&buf[i..i + p.min(32)]);
                    }
                    i += p;
                    if buf[i] == b'\\' {
                        sc.esc = true;
                        i += 1;
                    } else {
                        sc.in_str = false;
                        i += 1;
                        if collecting {
                            sc.key_is_findings = sc.key == b"Findings";
                        }
                        if sc.active && sc.depth == sc.target && sc.layout == Layout::Sequence {
                            return err(i, "expected a JSON object, found a string");
                        }
                    }
                }
                None => {
                    if collecting && sc.key.len() < 32 {
                        sc.key.extend_from_slice(&buf[i..n.min(i + 32)]);
                    }
                    i = n;
                }
            }
            continue;
        }
        let c = buf[i];
        let class = CLASS[c as usize];
        if class == 9 {
            i += 1;
            continue;
        }
        // A value starting at the element depth opens an element.
        if sc.active && sc.depth == sc.target && sc.elem.is_none() && class != 3 && class != 4 {
            if sc.layout == Layout::Sequence && class != 2 {
                return err(i, "expected a JSON object (one finding per line)");
            }
            sc.elem = Some(i);
            sc.after_comma = false;
        }
        if !sc.started {
            sc.started = true;
        } else if sc.depth == 0 && sc.layout != Layout::Sequence && class != 9 {
            return err(i, "unexpected content after the end of the JSON document");
        }
        match class {
            1 => {
                sc.in_str = true;
                if sc.layout == Layout::FindingsKey && sc.depth == 1 {
                    sc.key.clear();
                }
            }
            2 => {
                if sc.layout == Layout::Array && sc.depth == 0 && c == b'[' {
                    sc.active = true;
                }
                if sc.layout == Layout::FindingsKey
                    && sc.depth == 1
                    && c == b'['
                    && sc.value_is_findings
                    && !sc.closed
                {
                    sc.active = true;
                }
                sc.depth += 1;
                if sc.depth > 512 {
                    return err(i, "nested more than 512 levels deep");
                }
            }
            3 => {
                if sc.depth == 0 {
                    return err(i, "unexpected closing bracket");
                }
                if sc.active && sc.depth == sc.target {
                    // The streamed array ends.
                    if c != b']' {
                        return err(i, "mismatched closing bracket");
                    }
                    if let Some(s) = sc.elem.take() {
                        ranges.push((s, trim_end(buf, s, i)));
                    } else if sc.after_comma {
                        return err(i, "a comma before the closing bracket");
                    }
                    sc.active = false;
                    sc.closed = true;
                }
                sc.depth -= 1;
                if sc.layout == Layout::Sequence
                    && sc.depth == 0
                    && let Some(s) = sc.elem.take()
                {
                    ranges.push((s, i + 1));
                }
                if sc.layout == Layout::Array && sc.depth == 0 {
                    sc.closed = true;
                }
            }
            4 => {
                if sc.active && sc.depth == sc.target {
                    match sc.elem.take() {
                        Some(s) => ranges.push((s, trim_end(buf, s, i))),
                        None => return err(i, "a comma where a finding was expected"),
                    }
                    sc.after_comma = true;
                } else if sc.layout == Layout::FindingsKey && sc.depth == 1 {
                    sc.value_is_findings = false;
                }
            }
            5 if sc.layout == Layout::FindingsKey && sc.depth == 1 => {
                sc.value_is_findings = sc.key_is_findings;
            }
            _ => {}
        }
        i += 1;
    }
    *pos = i;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(text: &str, layout: Layout) -> Result<Vec<String>, ReadError> {
        split_blocks(text.as_bytes(), layout, BLOCK)
    }

    #[test]
    fn arrays_split_into_their_elements_whatever_the_strings_hold() {
        let got = elements(
            r#"[ {"a": "x,]}\"["}, {"b": [1, {"c": 2}]} ]"#,
            Layout::Array,
        )
        .unwrap();
        assert_eq!(got, [r#"{"a": "x,]}\"["}"#, r#"{"b": [1, {"c": 2}]}"#]);
        assert_eq!(elements("[]", Layout::Array).unwrap().len(), 0);
    }

    #[test]
    fn the_findings_list_of_an_asff_object_is_streamed() {
        let got = elements(
            r#"{"NextToken": "Findings", "Findings": [{"Id": 1}, {"Id": 2}], "x": [3]}"#,
            Layout::FindingsKey,
        )
        .unwrap();
        assert_eq!(got, [r#"{"Id": 1}"#, r#"{"Id": 2}"#]);
    }

    #[test]
    fn a_truncated_array_is_an_error_at_its_end() {
        let e = elements(r#"[{"a": 1}, {"b": "#, Layout::Array).unwrap_err();
        assert_eq!(e.offset, Some(17));
        assert!(e.message.contains("truncated"), "{e}");
        let e = elements(r#"[{"a": 1},, {"b": 2}]"#, Layout::Array).unwrap_err();
        assert_eq!(e.offset, Some(10));
    }

    /// Splits `text` with blocks of `block` bytes (so strings, escapes and nesting cross
    /// buffer ends) on two workers.
    fn split_blocks(text: &[u8], layout: Layout, block: usize) -> Result<Vec<String>, ReadError> {
        let mut out = Vec::new();
        stream(
            Vec::new(),
            text,
            layout,
            2,
            block,
            &|b, _| Ok(String::from_utf8(b.to_vec()).unwrap()),
            &mut |s| {
                out.push(s);
                Ok(())
            },
            &mut |_| {},
        )?;
        Ok(out)
    }

    /// A JSON value with the characters that matter to the scanner inside strings and keys.
    fn value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let text = || {
            proptest::string::string_regex(r#"([a-z ]|\\|"|\{|\}|\[|\]|,|:|é|\n){0,12}"#).unwrap()
        };
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i32>().prop_map(|n| serde_json::json!(n)),
            text().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(6, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(text(), inner, 0..5)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Whatever the findings hold and wherever the blocks end, the split gives exactly the
        /// elements serde_json sees in the array, compact or pretty-printed.
        #[test]
        fn the_split_agrees_with_serde_json(
            items in proptest::collection::vec(value(), 0..6),
            pretty: bool,
            block in 1usize..97,
        ) {
            let doc = serde_json::Value::Array(items.clone());
            let text = if pretty {
                serde_json::to_vec_pretty(&doc).unwrap()
            } else {
                serde_json::to_vec(&doc).unwrap()
            };
            let got = split_blocks(&text, Layout::Array, block).unwrap();
            let parsed: Vec<serde_json::Value> =
                got.iter().map(|e| serde_json::from_str(e).unwrap()).collect();
            proptest::prop_assert_eq!(parsed, items.clone());
            // The same findings one per line, and inside an ASFF object.
            let lines: Vec<u8> = items
                .iter()
                .filter(|v| v.is_object())
                .flat_map(|v| {
                    let mut l = serde_json::to_vec(v).unwrap();
                    l.push(b'\n');
                    l
                })
                .collect();
            let objects: Vec<&serde_json::Value> = items.iter().filter(|v| v.is_object()).collect();
            let got = split_blocks(&lines, Layout::Sequence, block).unwrap();
            proptest::prop_assert_eq!(got.len(), objects.len());
            for (g, w) in got.iter().zip(&objects) {
                proptest::prop_assert_eq!(&serde_json::from_str::<serde_json::Value>(g).unwrap(), *w);
            }
            let asff = serde_json::json!({"Other": {"Findings": [items.clone()]}, "Findings": items.clone(), "NextToken": "x"});
            let got = split_blocks(&serde_json::to_vec(&asff).unwrap(), Layout::FindingsKey, block).unwrap();
            let parsed: Vec<serde_json::Value> =
                got.iter().map(|e| serde_json::from_str(e).unwrap()).collect();
            proptest::prop_assert_eq!(parsed, items);
        }

        /// A document cut anywhere is an error, never a split that drops the tail.
        #[test]
        fn a_cut_document_is_an_error(items in proptest::collection::vec(value(), 1..5), cut in 0.0f64..1.0, block in 1usize..97) {
            let text = serde_json::to_vec_pretty(&serde_json::Value::Array(items)).unwrap();
            // Never cut inside trailing whitespace-free end: keep at least one byte off.
            let at = ((text.len() - 1) as f64 * cut) as usize;
            proptest::prop_assert!(split_blocks(&text[..at], Layout::Array, block).is_err());
        }
    }

    #[test]
    fn deep_nesting_inside_a_finding_is_refused_with_its_offset() {
        let mut text = String::from("[{\"a\": ");
        text.push_str(&"[".repeat(600));
        text.push_str(&"]".repeat(600));
        text.push_str("}]");
        let e = split_blocks(text.as_bytes(), Layout::Array, 64).unwrap_err();
        assert!(e.message.contains("512 levels"), "{e}");
        // `[` (1) `{` (2) then 510 more brackets reach depth 512; the next one is refused.
        assert_eq!(e.offset, Some(7 + 510));
    }

    #[test]
    fn json_lines_are_a_sequence_of_objects() {
        let got = elements("{\"a\":1}\n{\"b\":2}\n", Layout::Sequence).unwrap();
        assert_eq!(got, ["{\"a\":1}", "{\"b\":2}"]);
    }
}
