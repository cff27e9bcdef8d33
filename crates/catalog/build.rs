//! Embeds every file under `data/` (so adding a provider's services is adding a file), and
//! builds the catalog from them with the crate's own `CatalogBuilder`: invalid data fails the
//! build at its `file:line:column`, and the validated catalog is embedded in a compact form
//! that start-up only deserialises.

use std::fmt::Write;
use std::path::{Path, PathBuf};

// The catalog crate's own modules, compiled into the build script.
#[allow(dead_code, unused_imports)]
#[path = "src/builder.rs"]
mod builder;
#[allow(dead_code, unused_imports)]
#[path = "src/catalog.rs"]
mod catalog;
#[allow(dead_code, unused_imports)]
#[path = "src/compact.rs"]
mod compact;
#[allow(dead_code, unused_imports)]
#[path = "src/entry.rs"]
mod entry;
#[allow(dead_code, unused_imports)]
#[path = "src/ids.rs"]
mod ids;
#[allow(dead_code, unused_imports)]
#[path = "src/types.rs"]
mod types;
/// Nothing is embedded yet while the build script runs.
#[allow(dead_code)]
mod data {
    pub const FILES: &[(&str, &str)] = &[];
    pub const COMPACT: &str = "";
    pub const LOCATIONS: &str = "";
}
use catalog::Catalog;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("catalog data directory")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            // Tool check → control tables are read by demarc-posture when a findings command
            // needs them, not on every start-up (see `demarc_catalog::check_tables`).
            if p.file_name().is_some_and(|n| n == "checks") {
                continue;
            }
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    println!("cargo:rerun-if-changed={}", root.display());
    for f in [
        "builder.rs",
        "catalog.rs",
        "compact.rs",
        "entry.rs",
        "ids.rs",
        "types.rs",
    ] {
        println!("cargo:rerun-if-changed=src/{f}");
    }
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut code = String::from("pub const FILES: &[(&str, &str)] = &[\n");
    let mut b = builder::CatalogBuilder::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            f.display().to_string()
        )
        .unwrap();
        let text = std::fs::read_to_string(f).expect("catalog data file");
        b = b.builtin_file(PathBuf::from(format!("<builtin>/{rel}")), text);
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("catalog_files.rs"), code).unwrap();

    let (cat, located): (Catalog, _) = match b.build_located() {
        Ok(x) => x,
        Err(e) => panic!("the built-in catalog under data/ is invalid:\n{e}"),
    };
    let compact = compact::Compact::of(&cat);
    std::fs::write(
        out.join("catalog.json"),
        serde_json::to_string(&compact).unwrap(),
    )
    .unwrap();
    std::fs::write(
        out.join("catalog-locations.json"),
        serde_json::to_string(&located).unwrap(),
    )
    .unwrap();
}
