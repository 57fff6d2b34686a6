#!/usr/bin/env bash
# `make demo`: the main job. Starts vtad on the simulator with a socket under /tmp, runs a real
# workload through it with vtactl as the client, shows the daemon's status and metrics, and stops
# the daemon (SIGTERM: it drains and removes its socket). Uses the release build.
set -euo pipefail

BIN=${BIN:?BIN must point at the release build directory (vtad, vtactl)}
CONFORMANCE=${CONFORMANCE:-../shared/conformance}
VTACTL="$BIN/vtactl"
VTAD="$BIN/vtad"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

work=$(mktemp -d /tmp/vta-demo.XXXXXX)
socket="$work/vtad.sock"
daemon_pid=""
cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -TERM "$daemon_pid"; wait "$daemon_pid" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

step "vtad --socket $socket --profile hardware   (the daemon, on the simulator with the Xilinx bitstreams' behaviour)"
"$VTAD" --socket "$socket" --profile hardware --metrics-file "$work/vtad.prom" 2>"$work/vtad.log" &
daemon_pid=$!
for _ in $(seq 1 100); do
    if "$VTACTL" status --socket "$socket" >/dev/null 2>&1; then break; fi
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/vtad.log" >&2; echo "demo: vtad exited" >&2; exit 1; }
    sleep 0.1
done
"$VTACTL" status --socket "$socket"

step "vtactl npy random   (inputs: A 256x1024 int8, B 1024x1024 int8, bias 1024 int32)"
"$VTACTL" npy random --shape 256,1024 --seed 1 --out "$work/a.npy"
"$VTACTL" npy random --shape 1024,1024 --seed 2 --out "$work/b.npy"
"$VTACTL" npy random --shape 1024 --dtype int32 --seed 3 --out "$work/bias.npy"
"$VTACTL" npy show "$work/a.npy" --count 8

step "vtactl matmul --backend daemon   (C = clip((A x B^T + bias) >> 10, -128, 127), checked against the CPU)"
"$VTACTL" matmul --backend daemon --socket "$socket" --a "$work/a.npy" --b "$work/b.npy" --bias "$work/bias.npy" \
    --shift 10 --out "$work/c.npy" --check
"$VTACTL" npy show "$work/c.npy" --count 8

if [ -d "$CONFORMANCE/programs" ]; then
    step "vtactl run --backend daemon --check   (a conformance program, relocated into daemon buffers)"
    "$VTACTL" run --backend daemon --socket "$socket" --profile hardware --check "$CONFORMANCE/programs/matmul_tiled.json"
    step "vtactl verify   (the daemon's pre-flight check, from the command line)"
    "$VTACTL" verify "$CONFORMANCE/programs/conv3x3_tiles.json"
fi

step "vtactl status / vtactl metrics"
"$VTACTL" status --socket "$socket"
"$VTACTL" metrics --socket "$socket" | grep -E '^vtad_(jobs|instructions|device_seconds)' || true

step "SIGTERM: vtad drains, says STOPPING=1 to systemd (when it runs under it) and removes its socket"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=""
tail -n 3 "$work/vtad.log"
[ -e "$socket" ] && { echo "demo: the socket was not removed" >&2; exit 1; }
echo "demo: done"
