//! The load generator and benchmark: see `tests/src/load/mod.rs` and BENCHMARKS.md.

#[path = "../load/mod.rs"]
mod load;

/// The same allocator as the server: the generator allocates for every frame it sends and
/// reads, and with glibc's malloc that was a tenth of its core at 40,000 answers a second.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    load::main()
}
