//! Compliance rollup cost against resolution cost on synthetic estates (see crates/synth).
//! Run: `cargo bench -p demarc-compliance --bench rollup` (sizes: `DEMARC_BENCH_SIZES`,
//! default 100000,1000000). The rollup counts per class and table, so it must stay a small
//! fraction of `resolve` at any size.

use std::sync::Arc;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use demarc_catalog::Catalog;
use demarc_compliance::Library;
use demarc_compliance::rollup::{Options, rollup};
use demarc_engine::Prepared;

fn bench(c: &mut Criterion) {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    let lib = Library::builtin().expect("library loads");
    let moderate = lib.baseline("fedramp", "moderate").expect("baseline");
    let sizes: Vec<usize> = std::env::var("DEMARC_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    for n in sizes {
        let estate =
            demarc_model::load_sources(vec![("synth.yaml".into(), demarc_synth::yaml(n, 1))])
                .expect("synthetic estate loads");
        demarc_model::validate(&estate, Catalog::builtin()).expect("synthetic estate validates");
        let prepared = Arc::new(Prepared::new(Arc::new(estate), Catalog::builtin_shared()));
        let res = prepared.resolve(as_of);
        let mut group = c.benchmark_group(format!("{n} assets"));
        group.sample_size(10);
        group.bench_function("resolve (kept policy)", |b| {
            b.iter(|| std::hint::black_box(prepared.resolve(as_of).table_count()))
        });
        group.bench_function("rollup fedramp moderate", |b| {
            b.iter(|| {
                let r = rollup(
                    lib,
                    &res,
                    &Options {
                        framework: "fedramp",
                        baseline: Some(moderate),
                        warn_days: 30,
                        ..Options::default()
                    },
                )
                .expect("rollup");
                std::hint::black_box(r.summary.ready)
            })
        });
        group.bench_function("rollup soc2", |b| {
            b.iter(|| {
                let r = rollup(
                    lib,
                    &res,
                    &Options {
                        framework: "soc2",
                        warn_days: 30,
                        ..Options::default()
                    },
                )
                .expect("rollup");
                std::hint::black_box(r.summary.ready)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
