#!/usr/bin/env bash
# Load correctness in CI: 300 attendees in 2 worker processes answer for 10 s against a
# fresh server, then every acknowledged answer must be in the host's tallies and the
# database exactly once. Checks correctness only, never a time. Prints `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/../.."

target="${CARGO_TARGET_DIR:-target}"
cargo build -p joinup-tests --bin joinup-load --bin joinup-under-test

# joinup-under-test is the `joinup` binary, built inside the tests package.
timeout 110 "$target/debug/joinup-load" run \
  --spawn-server "$target/debug/joinup-under-test" \
  --attendees 300 --workers 2 --sources 4 \
  --rate 300 --secs 10 \
  --json-out "${TMPDIR:-/tmp}/joinup-load-ci.json" \
  | grep -E '^(PASS|FAIL|correctness:)'
