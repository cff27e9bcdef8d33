//! The embedded data files, listed by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));
