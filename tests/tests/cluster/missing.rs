//! A machine without `nats-server`: the suite ends with one line saying what to install,
//! not a panic inside the harness.

/// Runs one test of this binary in a child process without a usable `nats-server`.
#[test]
fn a_missing_nats_server_is_one_line() {
    let exe = std::env::current_exe().expect("this test binary");
    let test = "live::attendees_on_three_nodes_host_on_one_sees_the_truth";
    let out = std::process::Command::new(exe)
        .args(["--exact", test])
        .env_remove("JOINUP_TEST_SKIP_MISSING")
        .env("JOINUP_TEST_NATS_SERVER", "/nonexistent/nats-server")
        .output()
        .expect("run the test binary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(said.len(), 1, "one line: {stderr}");
    assert!(
        said[0].contains("the cluster tests need nats-server (Debian: apt install nats-server)"),
        "{stderr}"
    );
}
