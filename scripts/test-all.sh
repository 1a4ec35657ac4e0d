#!/usr/bin/env bash
# Runs every test of agentdrift. On a fresh Debian machine, as root, it first installs what the tests need
# (Debian packages, npm packages) and starts a Docker Engine when none answers; it stops only what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test-all] %s\n' "$*"; }
# apt_get / apt_update wait (up to 10 min) for another apt holding the dpkg or lists lock instead of failing at once.
. scripts/lib/apt.sh

# --- Debian packages the tests use -------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /usr/bin/chromium ] || need+=(chromium)   # renders the /docs page in a real browser
command -v git >/dev/null 2>&1 || need+=(git)
command -v python3 >/dev/null 2>&1 || need+=(python3)   # holds an apt lock in test/scripts/apt-lock.test.ts
# The compose file is validated with `docker compose config` (or docker-compose); images are never pulled.
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_update -qq
  apt_get install -y -qq --no-install-recommends "${need[@]}" ca-certificates >/dev/null
fi

# --- Docker Engine -------------------------------------------------------------------------------------------
started_dockerd=""
cleanup() {
  if [ -n "$started_dockerd" ]; then
    log "stopping the dockerd this script started (pid $started_dockerd)"
    kill "$started_dockerd" 2>/dev/null || true
    wait "$started_dockerd" 2>/dev/null || true
  fi
}
trap cleanup EXIT
if ! docker info >/dev/null 2>&1; then
  log "no Docker Engine answers: starting dockerd (no bridge, no iptables)"
  dockerd --iptables=false --bridge=none >/tmp/agentdrift-dockerd.log 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /tmp/agentdrift-dockerd.log"; tail -20 /tmp/agentdrift-dockerd.log; exit 1; }
fi

# --- npm packages --------------------------------------------------------------------------------------------
log "installing npm packages"
npm ci --no-audit --no-fund --loglevel=error

# --- checks and tests ----------------------------------------------------------------------------------------
log "lint"; npm run -s lint
log "type check"; npm run -s typecheck
log "tests"
mkdir -p .tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json || status=$?
node -e '
  const r = require("./.tmp/vitest.json");
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
exit "$status"
