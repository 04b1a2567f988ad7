#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The filesystem collector bounds a hanging statfs() (node_exporter issue #244) with its one
# long-lived worker thread: a FUSE mount whose statfs never answers (fuse_hang.py) costs one
# scrape --collector.filesystem.mount-timeout and reports node_filesystem_device_error 1; the
# next scrapes skip it, fast and successful, on a new worker, and start no thread per scrape;
# once statfs answers, the abandoned worker exits and the mount's values are back.
# Runs in mount and PID namespaces of its own (the collector reads /proc/1/mounts), so nothing
# else on the host ever sees the hanging mount, and everything in them dies with them.
set -u
cd "$(dirname "$0")/../.."
BIN=build/o11y-ebpf
if [ -z "${O11Y_FSHANG_INNER:-}" ]; then
	[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }
	TMP=$(mktemp -d)
	trap 'rm -rf "$TMP"' EXIT
	O11Y_FSHANG_INNER=$TMP unshare --mount --pid --fork --mount-proc --propagation private \
		bash "$0"
	exit $?
fi

TMP=$O11Y_FSHANG_INNER
MP=$TMP/hang
FUSE_PID= AG_PID=
cleanup() {
	for p in $AG_PID $FUSE_PID; do kill "$p" 2>/dev/null; done
	for p in $AG_PID $FUSE_PID; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -5 "$TMP/agent.log" 2>/dev/null; exit 1; }

mkdir "$MP"
python3 tests/integration/fuse_hang.py "$MP" >"$TMP/fuse.log" 2>&1 &
FUSE_PID=$!
for _ in $(seq 50); do grep -q mounted "$TMP/fuse.log" && break; sleep 0.1; done
grep -q " $MP fuse " /proc/1/mounts || fail "the FUSE mount is not in /proc/1/mounts: $(cat "$TMP/fuse.log")"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --http-capture=off --no-ebpf-host-metrics --collector.disable-defaults \
	--collector.filesystem --collector.filesystem.mount-timeout=300ms \
	--web.listen-address=127.0.0.1:$PORT >"$TMP/agent.log" 2>&1 &
AG_PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

LBL="device=\"o11yhang\",fstype=\"fuse\",mountpoint=\"$MP\""
# scrape N: the exposition in $TMP/sN.txt, its duration in ms in $ms
scrape() {
	local t0=$(date +%s%N)
	curl -sf "http://127.0.0.1:$PORT/metrics" >"$TMP/s$1.txt" || fail "scrape $1"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}
has() { grep -qxF "$2" "$TMP/s$1.txt" || fail "scrape $1 lacks: $2"; }
threads() { awk '/^Threads:/ {print $2}' /proc/$AG_PID/status; }

scrape 1
[ $ms -ge 280 ] && [ $ms -lt 3000 ] || fail "scrape 1 took $ms ms, not about the 300 ms timeout"
has 1 "node_filesystem_device_error{$LBL} 1"
has 1 'node_scrape_collector_success{collector="filesystem"} 0'
grep -q '^node_filesystem_size_bytes{device=.*mountpoint="/"} ' "$TMP/s1.txt" ||
	fail "scrape 1: no size for / (stat'ed before the hanging mount)"
grep -q "statfs($MP) did not return within 300 ms" "$TMP/agent.log" || fail "no warning logged"
echo "scrape 1: $ms ms, the hanging mount reported with device_error 1"

scrape 2
[ $ms -lt 250 ] || fail "scrape 2 took $ms ms: the stuck mount was not skipped"
has 2 "node_filesystem_device_error{$LBL} 1"
has 2 'node_scrape_collector_success{collector="filesystem"} 1'
grep -q '^node_filesystem_size_bytes{device=.*mountpoint="/"} ' "$TMP/s2.txt" ||
	fail "scrape 2: no size for /"
echo "scrape 2: $ms ms, the stuck mount skipped"

before=$(threads)
for i in $(seq 3 12); do scrape $i; done
[ "$(threads)" = "$before" ] || fail "threads went from $before to $(threads) over 10 scrapes"
echo "10 more scrapes: still $before threads"

kill -USR1 $FUSE_PID
for _ in $(seq 50); do grep -q "statfs($MP) returned again" "$TMP/agent.log" && break; sleep 0.1; done
grep -q "statfs($MP) returned again" "$TMP/agent.log" || fail "the stuck statfs was not noticed"
for _ in $(seq 50); do [ "$(threads)" = $((before - 1)) ] && break; sleep 0.1; done
[ "$(threads)" = $((before - 1)) ] || fail "the abandoned worker did not exit: $(threads) threads"
scrape 13
has 13 "node_filesystem_device_error{$LBL} 0"
has 13 "node_filesystem_size_bytes{$LBL} 4.096e+06"
has 13 "node_filesystem_avail_bytes{$LBL} 2.048e+06"
has 13 "node_filesystem_files_free{$LBL} 40"
has 13 'node_scrape_collector_success{collector="filesystem"} 1'
echo "PASS: a hanging statfs is bounded, skipped, and back once it answers"
