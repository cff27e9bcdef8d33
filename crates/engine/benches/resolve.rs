//! Resolution + analysis throughput on synthetic estates (see crates/synth).
//! Run: `cargo bench -p demarc-engine --bench resolve`. Parsing is done once, outside the
//! measured loop; `scripts/bench-cli.sh` measures the whole process including YAML loading.

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use demarc_catalog::Catalog;
use demarc_engine::{AnalyseOptions, analyse_with, resolve};

fn bench(c: &mut Criterion) {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    let mut group = c.benchmark_group("resolve+analyse");
    group.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        let estate =
            demarc_model::load_sources(vec![("synth.yaml".into(), demarc_synth::yaml(n, 1))])
                .expect("synthetic estate loads");
        demarc_model::validate(&estate, Catalog::builtin()).expect("synthetic estate validates");
        group.bench_function(format!("{n} assets"), |b| {
            b.iter(|| {
                let res = resolve(&estate, Catalog::builtin(), as_of);
                let a = analyse_with(
                    &res,
                    AnalyseOptions {
                        max_assets_per_gap: Some(1000),
                    },
                );
                std::hint::black_box(a.summary.cells)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
