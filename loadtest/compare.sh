#!/usr/bin/env bash
# Side-by-side benchmark: Atrium, Socket.IO 4.8 and nats-server on this machine, driven by the
# same load generator (atrium-loadtest) with identical parameters. Installs the peers if they
# are missing, builds release binaries, runs every case against every server in turn (each
# server freshly started, Atrium on a fresh SQLite database), then writes the comparison table
# into docs/benchmarks.md ("Peers") and its plots into docs/benchmarks/.
#
#   bash loadtest/compare.sh                    # everything (about 25 minutes on 2 cores)
#   TARGETS="atrium nats" CASES="fanout-1x1000" bash loadtest/compare.sh
#
# Knobs (environment): TARGETS, CASES (fanout-1x1000 fanout-100x100 idle-sessions), DURATION
# (seconds of publishing per run), SAME_RATE_1X1000 / SAME_RATE_100X100 (messages/s of the
# equal-load runs), IDLE_SESSIONS, RESULTS (report directory), NO_DOCS=1 (do not touch docs/).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

TARGETS=${TARGETS:-"atrium socketio nats"}
CASES=${CASES:-"fanout-1x1000 fanout-100x100 idle-sessions"}
DURATION=${DURATION:-15}
DRAIN=${DRAIN:-10}
IDLE_SESSIONS=${IDLE_SESSIONS:-19000}
# Messages/s for the "-same-rate" runs: well under what the slowest peer sustains.
SAME_RATE_1X1000=${SAME_RATE_1X1000:-40}
SAME_RATE_100X100=${SAME_RATE_100X100:-200}
RESULTS=${RESULTS:-$ROOT/target/loadtest/compare}
ATRIUM_ADDR=127.0.0.1:18080
SOCKETIO_PORT=3100
NATS_WS_PORT=4280

# cargo puts the binaries under CARGO_TARGET_DIR when it is set (as .ci/run does).
BIN_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/release
LOADTEST=$BIN_DIR/atrium-loadtest
ATRIUM=$BIN_DIR/atrium

log() { printf '\n== %s\n' "$*" >&2; }

install_peers() {
  if ! command -v nats-server >/dev/null; then
    log "installing nats-server (Debian package)"
    apt-get update -qq && apt-get install -y -qq nats-server
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "installing Node.js and npm (Debian packages)"
    apt-get update -qq && apt-get install -y -qq nodejs npm
  fi
  if [ ! -d loadtest/peers/socketio/node_modules/socket.io ]; then
    log "installing socket.io 4.8 (npm ci)"
    (cd loadtest/peers/socketio && npm ci --no-audit --no-fund)
  fi
}

wait_port() { # host port
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on $1:$2" >&2
  return 1
}

SERVER_PID=
DATA_DIR=
start_server() { # target logfile
  case $1 in
    atrium)
      DATA_DIR=$(mktemp -d)
      # The per-session rate limit (50 requests/s by default) would refuse a saturating
      # publisher; lift it for the benchmark. Everything else is the default configuration.
      ATRIUM_WS__RATE_PER_SECOND=1000000000 ATRIUM_WS__RATE_BURST=1000000000 \
        "$ATRIUM" serve --http-addr "$ATRIUM_ADDR" --database-url "sqlite://$DATA_DIR/atrium.db" \
        >"$2" 2>&1 &
      SERVER_PID=$!
      wait_port 127.0.0.1 "${ATRIUM_ADDR##*:}"
      ;;
    socketio)
      PORT=$SOCKETIO_PORT node loadtest/peers/socketio/server.js >"$2" 2>&1 &
      SERVER_PID=$!
      wait_port 127.0.0.1 $SOCKETIO_PORT
      ;;
    nats)
      nats-server -c loadtest/peers/nats/nats.conf >"$2" 2>&1 &
      SERVER_PID=$!
      wait_port 127.0.0.1 $NATS_WS_PORT
      ;;
  esac
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
  if [ -n "$DATA_DIR" ]; then
    rm -rf "$DATA_DIR"
    DATA_DIR=
  fi
}
trap stop_server EXIT

url_of() {
  case $1 in
    atrium) echo "ws://$ATRIUM_ADDR/ws" ;;
    socketio) echo "ws://127.0.0.1:$SOCKETIO_PORT/socket.io/?EIO=4&transport=websocket" ;;
    nats) echo "ws://127.0.0.1:$NATS_WS_PORT/" ;;
  esac
}

run_case() { # case target args...
  local name=$1 target=$2
  shift 2
  log "$name against $target"
  start_server "$target" "$RESULTS/$name.$target.server.log"
  # A failed run is reported and skipped (its column shows "–"), not fatal for the others.
  "$LOADTEST" run --target "$target" --url "$(url_of "$target")" --server-pid "$SERVER_PID" \
    --label "$name-$target" --report "$RESULTS/$name.$target.json" --plots-dir "$RESULTS/plots" \
    --drain "$DRAIN" "$@" | tee "$RESULTS/$name.$target.txt" \
    || echo "!! $name against $target failed (see $RESULTS/$name.$target.txt)" >&2
  stop_server
}

fanout_case() { # name channels members publishers-per-channel inflight same-rate
  local name=$1 channels=$2 members=$3 publishers=$4 inflight=$5 same=$6 target half
  for target in $TARGETS; do
    local shape=(--scenario fanout --channels "$channels" --members "$members"
      --publishers-per-channel "$publishers" --inflight "$inflight" --duration "$DURATION")
    run_case "$name-saturation" "$target" "${shape[@]}" --rate 0
    # Latency at half of the rate this server sustained at saturation.
    if half=$("$LOADTEST" rate "$RESULTS/$name-saturation.$target.json" --factor 0.5); then
      run_case "$name-half" "$target" "${shape[@]}" --rate "$half"
    fi
    # One rate every server sustains, so latencies compare at equal load.
    run_case "$name-same-rate" "$target" "${shape[@]}" --rate "$same"
  done
}

idle_case() {
  local target
  for target in $TARGETS; do
    # Two worker processes on two source addresses: the path a run beyond one process's
    # 20,000 open files takes, exercised here even though 19,000 would fit in one.
    run_case idle-sessions "$target" --scenario connect --sessions "$IDLE_SESSIONS" \
      --connect-rate 2000 --hold 10 --channels 100 --processes 2 \
      --source-addrs 127.0.0.1,127.0.0.2
  done
}

install_peers
log "building release binaries"
cargo build --release -p atrium -p atrium-loadtest
ulimit -n "$(ulimit -Hn)"
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.json

for case in $CASES; do
  case $case in
    fanout-1x1000) fanout_case fanout-1x1000 1 1000 4 64 "$SAME_RATE_1X1000" ;;
    fanout-100x100) fanout_case fanout-100x100 100 100 1 16 "$SAME_RATE_100X100" ;;
    idle-sessions) idle_case ;;
    *) echo "unknown case $case" >&2; exit 2 ;;
  esac
done

if [ -z "${NO_DOCS:-}" ]; then
  log "writing docs/benchmarks.md (Peers) and docs/benchmarks/*.svg"
  "$LOADTEST" compare --results "$RESULTS" --doc docs/benchmarks.md --plots-dir docs/benchmarks \
    --command "bash loadtest/compare.sh"
fi
log "reports in $RESULTS"
