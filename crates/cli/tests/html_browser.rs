//! The HTML report as a browser shows and prints it: headless Chromium renders the acme report
//! to a PNG and to a PDF, and the test checks that the page is drawn (not blank), that problems
//! are coloured (red and amber pixels), and that the PDF has real content.
//!
//! Without Chromium the test skips with a message, except under CI (`CI` set), where a missing
//! browser is a failure: `.ci/run` installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

const AS_OF: &str = "2026-11-23";

fn chromium() -> Option<PathBuf> {
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    })
}

fn acme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme")
}

/// Runs headless Chromium on `url` with `extra` (the screenshot or PDF flag).
fn render(browser: &Path, profile: &Path, url: &str, extra: &str) {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Chromium, or `None` after saying why the test skips; a missing browser fails under CI.
fn browser_or_skip() -> Option<PathBuf> {
    let b = chromium();
    if b.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but chromium is not installed: `.ci/run` installs it with apt-get");
        }
        eprintln!(
            "skipping: chromium is not installed (apt-get install chromium); set CI to make this a failure"
        );
    }
    b
}

/// What the browser made of a page: the screenshot's size, RGB pixels and PNG size, and the
/// printed PDF.
struct Shot {
    width: u32,
    height: u32,
    pixels: Vec<(u8, u8, u8)>,
    png_bytes: u64,
    pdf: Vec<u8>,
}

/// Screenshots `html` and prints it to PDF in headless Chromium. `DEMARC_KEEP_SCREENSHOT=PATH`
/// keeps the last screenshot (and PATH.pdf) for a person to look at.
fn shoot(browser: &Path, dir: &Path, html: &Path) -> Shot {
    let url = format!("file://{}", html.display());
    let png_path = dir.join("shot.png");
    let pdf_path = dir.join("shot.pdf");
    let profile = dir.join("profile");
    render(
        browser,
        &profile,
        &url,
        &format!("--screenshot={}", png_path.display()),
    );
    render(
        browser,
        &profile,
        &url,
        &format!("--print-to-pdf={}", pdf_path.display()),
    );
    if let Ok(keep) = std::env::var("DEMARC_KEEP_SCREENSHOT") {
        std::fs::copy(&png_path, &keep).unwrap();
        std::fs::copy(&pdf_path, format!("{keep}.pdf")).unwrap();
    }
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let channels = frame.color_type.samples();
    assert!(channels >= 3, "{:?}", frame.color_type);
    Shot {
        width: frame.width,
        height: frame.height,
        pixels: buf[..frame.buffer_size()]
            .chunks(channels)
            .map(|p| (p[0], p[1], p[2]))
            .collect(),
        png_bytes: std::fs::metadata(&png_path).unwrap().len(),
        pdf: std::fs::read(&pdf_path).unwrap(),
    }
}

#[test]
fn acme_report_renders_in_a_browser_with_problems_in_colour_and_prints_to_pdf() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(["check", "--as-of", AS_OF, "--html"])
        .arg(&html)
        .arg(acme())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shot = shoot(&browser, dir.path(), &html);
    let pixels = &shot.pixels;
    assert_eq!((shot.width, shot.height), (1280, 2000));
    let white = pixels
        .iter()
        .filter(|&&(r, g, b)| r > 245 && g > 245 && b > 245)
        .count();
    // A blank page is all white and compresses to a few KB; a report is mostly white paper
    // too, but with text, tables and charts on at least a twentieth of it.
    let png_bytes = shot.png_bytes;
    assert!(png_bytes > 50_000, "screenshot is only {png_bytes} bytes");
    assert!(
        white * 100 / pixels.len() < 95,
        "the page is mostly blank: {white} of {} pixels white",
        pixels.len()
    );
    // Problems are coloured: strong red (critical/high, contested, nobody named) and amber
    // (unsplit shares, medium) appear in the first screenful (summary, charts, gaps).
    let red = pixels
        .iter()
        .filter(|&&(r, g, b)| r > 180 && g < 80 && b < 80)
        .count();
    let amber = pixels
        .iter()
        .filter(|&&(r, g, b)| r > 200 && (100..=200).contains(&g) && b < 60)
        .count();
    assert!(
        red > 2_000,
        "too few red pixels ({red}): problems are not coloured"
    );
    assert!(amber > 500, "too few amber pixels ({amber})");

    // The PDF: a real document of several pages' worth.
    let pdf = &shot.pdf;
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert!(pdf.len() > 20_000, "PDF is only {} bytes", pdf.len());
}

/// The compliance page: the stacked share bar and the coloured requirement rows are drawn, and
/// the page prints.
#[test]
fn compliance_page_renders_its_shares_in_colour_and_prints() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args([
            "compliance",
            "-F",
            "fedramp",
            "--format",
            "html",
            "--as-of",
            AS_OF,
        ])
        .arg(acme())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = dir.path().join("compliance.html");
    std::fs::write(&html, &out.stdout).unwrap();
    let shot = shoot(&browser, dir.path(), &html);
    let pixels = &shot.pixels;
    let near = |c: (u8, u8, u8)| {
        pixels
            .iter()
            .filter(|p| p.0.abs_diff(c.0) < 12 && p.1.abs_diff(c.1) < 12 && p.2.abs_diff(c.2) < 12)
            .count()
    };
    // The bar's shared (amber #fbbf24) and yours (green #4ade80) segments, and the rows'
    // shared (#fef3c7) and customer (#dcfce7) backgrounds.
    assert!(
        near((0xfb, 0xbf, 0x24)) > 500,
        "no shared segment in the bar"
    );
    assert!(
        near((0x4a, 0xde, 0x80)) > 200,
        "no customer segment in the bar"
    );
    assert!(near((0xfe, 0xf3, 0xc7)) > 2_000, "no shared rows");
    let pdf = &shot.pdf;
    assert!(
        pdf.starts_with(b"%PDF-") && pdf.len() > 20_000,
        "PDF is only {} bytes",
        pdf.len()
    );
}

/// The responsibility annex: the HTML page is drawn (not blank) and prints to a PDF, and the
/// docx-compatible HTML has no script and no style block (inline styles only).
#[test]
fn annex_renders_in_a_browser_and_prints() {
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
            .args([
                "annex", "--party", "shieldco", "--format", format, "--as-of", AS_OF,
            ])
            .arg(acme())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let docx = run("docx");
    assert!(
        !docx.contains("<script") && !docx.contains("<style"),
        "docx HTML has a script or style block"
    );
    assert!(
        docx.contains("<table style="),
        "docx HTML tables carry inline styles"
    );
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("annex.html");
    std::fs::write(&html, run("html")).unwrap();
    let shot = shoot(&browser, dir.path(), &html);
    let pixels = &shot.pixels;
    let white = pixels
        .iter()
        .filter(|&&(r, g, b)| r > 245 && g > 245 && b > 245)
        .count();
    assert!(
        white * 100 / pixels.len() < 97,
        "the annex page is blank: {white} of {} pixels white",
        pixels.len()
    );
    let pdf = &shot.pdf;
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert!(pdf.len() > 20_000, "PDF is only {} bytes", pdf.len());
}
