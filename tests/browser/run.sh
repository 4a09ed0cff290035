#!/usr/bin/env bash
# Joinup's browser tests: Debian's Chromium drives the real pages of a freshly built server.
# Installs what it needs on a fresh Debian machine; prints "N passed, N failed"; exits
# non-zero on any failure. With arguments, runs only those test files (names in
# tests/browser, e.g. `bash tests/browser/run.sh hostday.test.mjs`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)  # the chaos test reads the database
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update
  as_root apt-get install -y "${need_apt[@]}"
fi

echo "== npm dependencies (playwright-core, @axe-core/playwright; no browser download)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f "$here/package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
else
  (cd "$here" && npm install --no-audit --no-fund)
fi

echo "== cargo build --bin joinup"
cargo build --bin joinup
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
bin="$target/debug/joinup"

tmp="$(mktemp -d)"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
key="$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
base="http://127.0.0.1:$port"

"$bin" demo --addr "127.0.0.1:$port" --database "sqlite://$tmp/joinup.db" --organiser-key "$key" >"$tmp/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

up=""
for _ in $(seq 1 200); do
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$base/healthz"; then up=1; break; fi
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "the server did not start:"; cat "$tmp/server.log"; exit 1
fi
sed -n '1,5p' "$tmp/server.log"

# The glob is expanded in tests/browser (this script runs from the root): Node 20's
# `--test` does not expand one itself.
if [ $# -gt 0 ]; then files=("$@"); else files=(); for f in "$here"/*.test.mjs; do files+=("$(basename "$f")"); done; fi
echo "== browser tests (Chromium $(/usr/bin/chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1))"
status=0
(cd "$here" && JOINUP_URL="$base" JOINUP_ORGANISER_KEY="$key" JOINUP_BIN="$bin" \
  node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tmp/results.tap" \
    "${files[@]}") || status=$?

passed="$(grep -E '^# pass ' "$tmp/results.tap" | awk '{print $3}' | tail -1)"
failed="$(grep -E '^# fail ' "$tmp/results.tap" | awk '{print $3}' | tail -1)"
if [ "$status" -ne 0 ] && [ "${failed:-0}" = "0" ]; then failed=1; fi
echo "browser: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
