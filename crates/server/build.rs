//! Embeds the example estates (`examples/*/`) for `demarc serve --demo`.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
        {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut code = String::from(
        "/// (estate, path inside it, content) of every example file.\npub const EXAMPLES: &[(&str, &str, &[u8])] = &[\n",
    );
    let mut estates: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    estates.sort();
    for e in estates {
        let name = e.file_name().unwrap().to_string_lossy().to_string();
        let mut files = Vec::new();
        walk(&e, &mut files);
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
            let rel = f
                .strip_prefix(&e)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let abs = std::fs::canonicalize(&f).unwrap();
            code.push_str(&format!(
                "    ({name:?}, {rel:?}, include_bytes!({:?})),\n",
                abs.display().to_string()
            ));
        }
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("examples.rs");
    std::fs::write(out, code).unwrap();
}
