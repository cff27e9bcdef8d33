//! `demarc-synth ASSETS [SEED] [--files K DIR | --inventory DIR]`: print a synthetic estate as
//! YAML on stdout, or write it to DIR as `estate.yaml` plus K asset files, or as `estate.yaml`
//! (policy, naming the inventory) plus `assets.jsonl`.

use std::io::Write;
use std::path::PathBuf;

fn main() {
    let usage = "usage: demarc-synth ASSETS [SEED] [--files K DIR | --inventory DIR]";
    let fail = || -> ! {
        eprintln!("{usage}");
        std::process::exit(2)
    };
    let mut positional = Vec::new();
    let mut split: Option<(usize, PathBuf)> = None;
    let mut inventory: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--files" {
            let k = args
                .next()
                .and_then(|k| k.parse().ok())
                .unwrap_or_else(|| fail());
            let dir = args.next().map(PathBuf::from).unwrap_or_else(|| fail());
            split = Some((k, dir));
        } else if a == "--inventory" {
            inventory = Some(args.next().map(PathBuf::from).unwrap_or_else(|| fail()));
        } else {
            positional.push(a);
        }
    }
    let n: usize = positional
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| fail());
    let seed: u64 = match positional.get(1) {
        None => 1,
        Some(s) => s.parse().unwrap_or_else(|_| fail()),
    };
    if let Some(dir) = inventory {
        if split.is_some() {
            fail();
        }
        let (estate, jsonl) = demarc_synth::yaml_with_jsonl(n, seed);
        let written = std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(dir.join("estate.yaml"), estate))
            .and_then(|_| std::fs::write(dir.join("assets.jsonl"), jsonl));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", dir.display());
            std::process::exit(2);
        }
        return;
    }
    match split {
        None => {
            let _ = std::io::stdout().write_all(demarc_synth::yaml(n, seed).as_bytes());
        }
        Some((k, dir)) => {
            let written = std::fs::create_dir_all(&dir).and_then(|_| {
                demarc_synth::yaml_files(n, seed, k)
                    .into_iter()
                    .try_for_each(|(name, text)| std::fs::write(dir.join(name), text))
            });
            if let Err(e) = written {
                eprintln!("error: cannot write {}: {e}", dir.display());
                std::process::exit(2);
            }
        }
    }
}
