//! Engine throughput on synthetic estates (see crates/synth).
//! Run: `cargo bench -p demarc-engine --bench resolve`. Parsing is done once, outside the
//! measured loops; `scripts/bench-cli.sh` measures the whole process including loading.
//!
//! - `prepare+resolve+analyse`: the whole engine, from a loaded estate to gaps;
//! - `resolve (kept policy)`: re-resolving a kept [`Prepared`] for a date;
//! - `explain (kept result)`: one `explain` query against a kept resolution, which is what a
//!   server answers per request.

use std::sync::Arc;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use demarc_catalog::Catalog;
use demarc_engine::{AnalyseOptions, Prepared};
use demarc_model::Duty;

fn bench(c: &mut Criterion) {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    let sizes: Vec<usize> = std::env::var("DEMARC_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    for n in sizes {
        let estate =
            demarc_model::load_sources(vec![("synth.yaml".into(), demarc_synth::yaml(n, 1))])
                .expect("synthetic estate loads");
        demarc_model::validate(&estate, Catalog::builtin()).expect("synthetic estate validates");
        let estate = Arc::new(estate);
        let catalog = Catalog::builtin_shared();
        let mut group = c.benchmark_group(format!("{n} assets"));
        group.sample_size(10);
        group.bench_function("prepare+resolve+analyse", |b| {
            b.iter(|| {
                let prepared = Arc::new(Prepared::new(estate.clone(), catalog.clone()));
                let res = prepared.resolve(as_of);
                let a = res.gaps(AnalyseOptions {
                    max_assets_per_gap: Some(1000),
                });
                std::hint::black_box(a.summary.cells)
            })
        });
        let prepared = Arc::new(Prepared::new(estate.clone(), catalog.clone()));
        group.bench_function("resolve (kept policy)", |b| {
            b.iter(|| std::hint::black_box(prepared.resolve(as_of).table_count()))
        });
        let res = prepared.resolve(as_of);
        // The last asset in id order: a binary search away, like any other.
        let last = res.assets().last().expect("assets");
        let id = res.asset(last).id.value.clone();
        group.sample_size(100);
        group.bench_function("explain (kept result)", |b| {
            b.iter(|| {
                let a = res.find_asset(&id).expect("asset");
                let e = res.explain(a, "os-patching", Duty::Patch).expect("cell");
                std::hint::black_box(e.cell.responsible.len())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
