//! The load generator and benchmark: see `tests/src/load/mod.rs` and BENCHMARKS.md.

#[path = "../load/mod.rs"]
mod load;

fn main() -> std::process::ExitCode {
    load::main()
}
