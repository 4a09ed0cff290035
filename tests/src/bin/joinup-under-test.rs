//! The `joinup` binary, built inside the tests package so that integration tests can start
//! it as a separate process (and kill it with SIGKILL) via `CARGO_BIN_EXE_joinup-under-test`.

fn main() -> std::process::ExitCode {
    joinup::cli::main()
}
