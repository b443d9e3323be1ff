#!/usr/bin/env bash
# `npm run bench:startup`: how long a new user waits. Clones this repository into a temp folder and
# times, as on a fresh machine (empty Go module and build caches, no temporal binary on PATH):
#   cold: `npm install && npm start` until the banner (includes the Temporal CLI build),
#   warm: a second `npm start` until the banner.
# Uses other ports than the defaults, so it can run beside a running engine. Takes minutes.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/clinical-startup-XXXX)"
git clone -q "$repo" "$work/app"
cd "$work/app"
export GOMODCACHE="$work/go/mod" GOCACHE="$work/go/cache" GOPATH="$work/go/path"
# Drop the user's Go bin folder (where an earlier `go install` may have put temporal), keep Go itself.
export PATH="$(echo "$PATH" | tr ':' '\n' | grep -vxF "$HOME/go/bin" | paste -sd:)"
export API_PORT=3190 EMBEDDED_PG_PORT=5590 TEMPORAL_DEV_PORT=7390 TEMPORAL_UI_PORT=8390
unset TEMPORAL_CLI_PATH DATABASE_URL TEMPORAL_ADDRESS
if command -v temporal >/dev/null 2>&1; then echo "a temporal binary is on PATH ($(command -v temporal)): not a cold start" >&2; fi

now() { date +%s.%N; }
# Waits for the banner (or a failure) while the engine process ($2) lives.
wait_banner() {
  for _ in $(seq 1 4800); do
    grep -qE "is up|Start failed" "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "npm start exited: see below" >&2; tail -20 "$1" >&2; return 1; }
    sleep 0.25
  done
  return 1
}
stop_engine() {
  for p in $(pgrep -f "^node --import tsx local-stack/start.ts"); do
    [ "$(readlink "/proc/$p/cwd")" = "$work/app" ] && kill -INT "$p"
  done
  for _ in $(seq 1 120); do pgrep -f "$work/app" >/dev/null || return 0; sleep 0.5; done
}

t0=$(now); npm install >"$work/install.log" 2>&1; t1=$(now)
npm start >"$work/cold.log" 2>&1 & wait_banner "$work/cold.log" $!; t2=$(now)
health=$(curl -s "localhost:$API_PORT/health" || echo null); ui=$(curl -s -o /dev/null -w '%{http_code}' "localhost:$TEMPORAL_UI_PORT/" || true)
echo "cold: install $(echo "$t1 - $t0" | bc) s, start $(echo "$t2 - $t1" | bc) s; health $health; Temporal UI HTTP $ui" 
stop_engine
t3=$(now); npm start >"$work/warm.log" 2>&1 & wait_banner "$work/warm.log" $!; t4=$(now)
stop_engine

grep -E "is up|Start failed" "$work/cold.log" "$work/warm.log"
printf '{"bench":"startup","npmInstallS":%.1f,"coldStartS":%.1f,"coldTotalS":%.1f,"warmStartS":%.1f,"health":%s,"temporalUi":%s}\n' \
  "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(echo "$t2 - $t0" | bc)" "$(echo "$t4 - $t3" | bc)" "$health" "$ui"
rm -rf "$work"
