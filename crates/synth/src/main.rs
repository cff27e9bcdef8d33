//! `demarc-synth ASSETS [SEED]`: print a synthetic estate as YAML on stdout.

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: demarc-synth ASSETS [SEED]";
    let Some(n) = args.next().and_then(|a| a.parse::<usize>().ok()) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let seed = match args.next() {
        None => 1,
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("{usage}");
            std::process::exit(2)
        }),
    };
    let _ = std::io::stdout().write_all(demarc_synth::yaml(n, seed).as_bytes());
}
