#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Host metrics (bpf/host.bpf.c) end to end: cause each event on this machine and watch its
# series move on /metrics: run-queue latency (many sleeping threads), block I/O latency on a
# loop device (dd oflag/iflag=direct), TCP resets (connect to a closed loopback port), SYN
# retransmits (a listener with a full accept queue), connect latency and opens/accepts, execs
# and exits (/bin/true N times), an OOM kill inside a small memory cgroup (counter and the
# agent's warn line). promtool must parse the scrape. Loopback and ephemeral ports only.
set -u
cd "$(dirname "$0")/../.."
BIN=build/o11y-ebpf
TMP=$(mktemp -d)
AG_PID= LOOP= CG=
cleanup() {
	[ -n "$AG_PID" ] && kill -INT "$AG_PID" 2>/dev/null && wait "$AG_PID" 2>/dev/null
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	[ -n "$CG" ] && [ -d "$CG" ] && rmdir "$CG" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$TMP/agent.log" ] && tail -5 "$TMP/agent.log"; exit 1; }
pass() { echo "ok: $*"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
scrape() { curl -sf "http://127.0.0.1:$PORT/metrics" >"$1" || fail "scrape failed"; }
# value of one exact series (name{labels}) in a scrape file, 0 when absent
val() { awk -v s="$2" '$1 == s { v = $2 } END { print v == "" ? 0 : v }' "$1"; }
# asserts: after - before >= min, for one series
grew() {
	local series=$1 min=$2 b a
	b=$(val "$TMP/before" "$series")
	a=$(val "$TMP/after" "$series")
	python3 -c "import sys; sys.exit(0 if float('$a') - float('$b') >= $min else 1)" ||
		fail "$series moved from $b to $a, expected at least +$min"
	pass "$series +$(python3 -c "print(float('$a') - float('$b'))") (>= $min)"
}

[ -x "$BIN" ] || fail "$BIN not built"
PORT=$(free_port)
"$BIN" --http-capture=off --web.listen-address=127.0.0.1:$PORT >"$TMP/agent.log" 2>&1 &
AG_PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics" && break; sleep 0.1; done
grep -q "host: 12 of 12 programs attached" "$TMP/agent.log" || fail "not every program attached"

# 0. every family is there, promtool parses it, histograms are consistent
scrape "$TMP/s0"
for f in node_ebpf_runqueue_latency_seconds node_ebpf_tcp_connect_latency_seconds; do
	grep -q "^# TYPE $f histogram$" "$TMP/s0" || fail "no histogram $f"
done
for f in node_ebpf_tcp_retransmits_total node_ebpf_tcp_resets_sent_total \
	node_ebpf_tcp_resets_received_total node_ebpf_tcp_connections_opened_total \
	node_ebpf_tcp_connections_accepted_total node_ebpf_oom_kills_total \
	node_ebpf_process_execs_total node_ebpf_process_exits_total o11y_ebpf_host_kernel_errors_total; do
	grep -q "^# TYPE $f counter$" "$TMP/s0" || fail "no counter $f"
done
promtool check metrics <"$TMP/s0" >"$TMP/lint" 2>&1
rc=$?
[ $rc = 0 ] || [ $rc = 3 ] || fail "promtool check metrics exited $rc: $(head -3 "$TMP/lint")"
grep -E "node_ebpf|o11y_ebpf_host" "$TMP/lint" && fail "promtool lint findings on host metrics"
pass "families present, promtool parses the scrape"

# 1. run-queue latency: 50 threads sleeping 1 ms 200 times each = 10000 wakeups that run
scrape "$TMP/before"
python3 -c '
import threading, time
def f():
    for _ in range(200):
        time.sleep(0.001)
ts = [threading.Thread(target=f) for _ in range(50)]
[t.start() for t in ts]; [t.join() for t in ts]'
scrape "$TMP/after"
grew node_ebpf_runqueue_latency_seconds_count 10000
grew 'node_ebpf_runqueue_latency_seconds_bucket{le="+Inf"}' 10000
python3 - "$TMP/after" <<'PY' || fail "run-queue histogram is not cumulative or +Inf != _count"
import re, sys
b = [(m.group(1), float(m.group(2))) for m in re.finditer(
    r'^node_ebpf_runqueue_latency_seconds_bucket\{le="([^"]+)"\} (\S+)$', open(sys.argv[1]).read(), re.M)]
vals = [v for _, v in b]
count = float(re.search(r'^node_ebpf_runqueue_latency_seconds_count (\S+)$', open(sys.argv[1]).read(), re.M).group(1))
sys.exit(0 if len(b) == 28 and vals == sorted(vals) and b[-1] == ("+Inf", count) and b[0][0] == "1e-06" else 1)
PY
pass "run-queue histogram: 28 cumulative buckets, +Inf == _count"

# 2. block I/O latency on a loop device: 2000 direct 4 KiB writes, then 1000 direct reads
truncate -s 64M "$TMP/disk" || fail "truncate"
LOOP=$(losetup -f --show "$TMP/disk") || fail "losetup"
DEV=$(basename "$LOOP")
scrape "$TMP/before"
dd if=/dev/zero of="$LOOP" bs=4k count=2000 oflag=direct status=none || fail "dd write"
dd if="$LOOP" of=/dev/null bs=4k count=1000 iflag=direct status=none || fail "dd read"
scrape "$TMP/after"
# a completion whose program the kernel skipped (the same program was running on that CPU,
# interrupted or preempted there) is not timed but counted as skipped: each excuses one request
SK='o11y_ebpf_host_kernel_errors_total{reason="skipped"}'
skipped=$(python3 -c "print(int(float('$(val "$TMP/after" "$SK")') - float('$(val "$TMP/before" "$SK")')))")
[ "$skipped" = 0 ] || echo "note: $skipped program runs skipped by the kernel during the block I/O"
grew "node_ebpf_block_io_latency_seconds_count{device=\"$DEV\",op=\"write\"}" $((2000 - skipped))
grew "node_ebpf_block_io_latency_seconds_count{device=\"$DEV\",op=\"read\"}" $((1000 - skipped))
grew "node_ebpf_block_io_latency_seconds_sum{device=\"$DEV\",op=\"write\"}" 0.000001

# 3. resets: a connect to a closed loopback port is answered by a RST the kernel sends and
#    the connecting socket receives
CLOSED=$(free_port)
scrape "$TMP/before"
python3 -c "
import socket
for _ in range(5):
    s = socket.socket()
    try:
        s.connect(('127.0.0.1', $CLOSED))
    except ConnectionRefusedError:
        pass
    else:
        raise SystemExit('port $CLOSED is open')
    s.close()" || fail "closed-port connects"
scrape "$TMP/after"
grew node_ebpf_tcp_resets_sent_total 5
grew node_ebpf_tcp_resets_received_total 5

# 4. connects to a listening loopback port: opens, accepts and connect latency
scrape "$TMP/before"
python3 -c '
import socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(64)
for _ in range(20):
    c = socket.create_connection(srv.getsockname()); a, _ = srv.accept(); c.close(); a.close()' ||
	fail "loopback connects"
scrape "$TMP/after"
grew node_ebpf_tcp_connections_opened_total 20
grew node_ebpf_tcp_connections_accepted_total 20
grew node_ebpf_tcp_connect_latency_seconds_count 20
grew node_ebpf_tcp_connect_latency_seconds_sum 0.000000001

# 5. retransmits: a listener with backlog 0 and one connection already queued drops the next
#    SYN, which the client retransmits after ~1 s
scrape "$TMP/before"
python3 -c '
import socket, time
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(0)
c1 = socket.create_connection(srv.getsockname())
time.sleep(0.1)
c2 = socket.socket(); c2.setblocking(False)
c2.connect_ex(srv.getsockname())
time.sleep(2.5)' || fail "SYN drop setup"
scrape "$TMP/after"
grew node_ebpf_tcp_retransmits_total 1

# 6. execs and exits
scrape "$TMP/before"
for _ in $(seq 200); do /bin/true; done
scrape "$TMP/after"
grew node_ebpf_process_execs_total 200
grew node_ebpf_process_exits_total 200

# 7. OOM kill of a process confined to a 32 MiB memory cgroup (v2 memory.max, or v1)
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	CG=/sys/fs/cgroup/o11y-test-oom-$$
	mkdir "$CG" || fail "mkdir $CG"
	echo $((32 << 20)) >"$CG/memory.max" || fail "memory.max"
	echo 0 >"$CG/memory.swap.max" 2>/dev/null
elif [ -d /sys/fs/cgroup/memory ]; then
	CG=/sys/fs/cgroup/memory/o11y-test-oom-$$
	mkdir "$CG" || fail "mkdir $CG"
	echo $((32 << 20)) >"$CG/memory.limit_in_bytes" || fail "memory.limit_in_bytes"
	[ -f "$CG/memory.memsw.limit_in_bytes" ] && echo $((32 << 20)) >"$CG/memory.memsw.limit_in_bytes"
else
	fail "no memory cgroup controller (v2 or v1) to confine an OOM kill to"
fi
scrape "$TMP/before"
# sh moves itself into the cgroup and reports python's status (so bash prints no "Killed")
sh -c "echo \$\$ >'$CG/cgroup.procs' || exit 1
	python3 -c 'import os; open(\"$TMP/oom.pid\", \"w\").write(str(os.getpid()))
x = bytearray(512 << 20)'" 2>/dev/null
rc=$?
[ $rc = 137 ] || fail "the allocating process was not killed (exit $rc)"
OOM_PID=$(cat "$TMP/oom.pid")
for _ in $(seq 20); do
	grep -q "oom: the kernel OOM killer chose pid $OOM_PID (python3)" "$TMP/agent.log" && break
	sleep 0.1
done
scrape "$TMP/after"
grew node_ebpf_oom_kills_total 1
grep -q "warn  oom: the kernel OOM killer chose pid $OOM_PID (python3)" "$TMP/agent.log" ||
	fail "no warn line for the OOM victim $OOM_PID"
pass "agent logged the OOM victim pid $OOM_PID (python3)"

# nothing was lost in the kernel meanwhile
scrape "$TMP/end"
[ "$(val "$TMP/end" 'o11y_ebpf_host_kernel_errors_total{reason="map_full"}')" = 0 ] ||
	fail "map_full errors"
echo "PASS"
