//! The `joinup` binary: everything lives in the library; see [`joinup::cli`].

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    joinup::cli::main()
}
