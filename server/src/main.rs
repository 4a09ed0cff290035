//! The `joinup` binary: everything lives in the library; see [`joinup::cli`].

fn main() -> std::process::ExitCode {
    joinup::cli::main()
}
