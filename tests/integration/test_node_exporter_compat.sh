#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The agent as a drop-in for Debian 12's node_exporter 1.5: both run side by side on loopback,
# every node_exporter family must be in our scrape with the same type, labels and values
# (tests/integration/compare_scrapes.py), promtool must parse our scrape and find no lint
# problem node_exporter does not have too, and gzip, /, 404, collect[]/exclude[] and a taken
# port behave.
set -u
cd "$(dirname "$0")/../.."
BIN=build/o11y-ebpf
NE=/usr/bin/prometheus-node-exporter
TMP=$(mktemp -d)
NE_PID= AG_PID= BLOCK_PID=
cleanup() {
	for p in $NE_PID $AG_PID $BLOCK_PID; do kill "$p" 2>/dev/null; done
	for p in $NE_PID $AG_PID $BLOCK_PID; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$TMP/agent.log" ] && tail -5 "$TMP/agent.log"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }

[ -x "$BIN" ] || fail "$BIN not built"
[ -x "$NE" ] || fail "$NE not installed (make deps)"
NE_PORT=$(free_port)
AG_PORT=$(free_port)
"$NE" --web.listen-address=127.0.0.1:$NE_PORT >"$TMP/ne.log" 2>&1 &
NE_PID=$!
"$BIN" --http-capture=off --web.listen-address=127.0.0.1:$AG_PORT >"$TMP/agent.log" 2>&1 &
AG_PID=$!
wait_http "http://127.0.0.1:$NE_PORT/metrics" || fail "node_exporter did not come up"
wait_http "http://127.0.0.1:$AG_PORT/metrics" || fail "agent did not come up"
grep -q "serving /metrics on http://127.0.0.1:$AG_PORT/metrics" "$TMP/agent.log" ||
	fail "agent did not log its address"

# 1. same families, types, labels, values (scraped back to back; a retry absorbs a rare race)
ok=0
for attempt in 1 2 3; do
	curl -sf "http://127.0.0.1:$NE_PORT/metrics" >"$TMP/ne.txt" || fail "scrape node_exporter"
	curl -sf "http://127.0.0.1:$AG_PORT/metrics" >"$TMP/ours.txt" || fail "scrape agent"
	if python3 tests/integration/compare_scrapes.py "$TMP/ne.txt" "$TMP/ours.txt" >"$TMP/cmp.txt"; then
		ok=1
		break
	fi
done
cat "$TMP/cmp.txt"
[ $ok = 1 ] || fail "scrapes differ from node_exporter's"

for m in o11y_ebpf_events_total o11y_ebpf_spans_total o11y_ebpf_http_unparsed_total \
	process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_max_fds \
	process_start_time_seconds process_virtual_memory_bytes; do
	grep -q "^$m " "$TMP/ours.txt" || fail "no $m in our scrape"
done

# 2. promtool parses it; lint findings only where node_exporter has the same ones
promtool check metrics <"$TMP/ours.txt" >"$TMP/ours.lint" 2>&1
rc=$?
[ $rc = 0 ] || [ $rc = 3 ] || fail "promtool check metrics exited $rc: $(head -3 "$TMP/ours.lint")"
promtool check metrics <"$TMP/ne.txt" >"$TMP/ne.lint" 2>&1
extra=$(sort "$TMP/ours.lint" | comm -23 - <(sort "$TMP/ne.lint"))
[ -z "$extra" ] || fail "promtool lint problems node_exporter does not have: $extra"
echo "promtool: ok ($(wc -l <"$TMP/ours.lint") lint lines, all shared with node_exporter)"

# 3. content type, gzip, /, 404
ct=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$AG_PORT/metrics")
[ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] || fail "content type '$ct'"
curl -s -H 'Accept-Encoding: gzip' -D "$TMP/h.txt" "http://127.0.0.1:$AG_PORT/metrics" -o "$TMP/m.gz"
grep -qi '^content-encoding: gzip' "$TMP/h.txt" || fail "no gzip with Accept-Encoding: gzip"
gzip -dc "$TMP/m.gz" | grep -q '^node_memory_MemTotal_bytes ' || fail "gzip body does not decode"
curl -s -H 'Accept-Encoding: gzip;q=0' -D "$TMP/h2.txt" -o /dev/null "http://127.0.0.1:$AG_PORT/metrics"
grep -qi '^content-encoding' "$TMP/h2.txt" && fail "gzip despite q=0"
curl -s "http://127.0.0.1:$AG_PORT/" | grep -q 'href="/metrics"' || fail "/ does not link /metrics"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AG_PORT/nope")
[ "$code" = 404 ] || fail "/nope gave $code"

# 4. collect[] / exclude[] select collectors like node_exporter's
curl -s "http://127.0.0.1:$AG_PORT/metrics?collect[]=cpu&collect[]=meminfo" >"$TMP/f.txt"
got=$(grep '^node_scrape_collector_success' "$TMP/f.txt" | sed 's/.*collector="\([^"]*\)".*/\1/' | tr '\n' ' ')
[ "$got" = "cpu meminfo " ] || fail "collect[]=cpu&collect[]=meminfo ran: $got"
grep -q '^node_cpu_seconds_total' "$TMP/f.txt" || fail "collect[]=cpu: no cpu metrics"
grep -q '^node_network_' "$TMP/f.txt" && fail "collect[]: netdev/netclass were not left out"
curl -s "http://127.0.0.1:$AG_PORT/metrics?exclude[]=cpu" >"$TMP/e.txt"
grep -q 'collector="cpu"' "$TMP/e.txt" && fail "exclude[]=cpu still ran cpu"
grep -q '^node_memory_MemTotal_bytes' "$TMP/e.txt" || fail "exclude[]=cpu dropped meminfo"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AG_PORT/metrics?collect[]=nosuch")
[ "$code" = 400 ] || fail "collect[]=nosuch gave $code"

# 5. a taken port fails cleanly with a clear log line
"$BIN" --http-capture=off --web.listen-address=127.0.0.1:$AG_PORT >"$TMP/busy.log" 2>&1 &
BLOCK_PID=$!
for _ in $(seq 50); do kill -0 $BLOCK_PID 2>/dev/null || break; sleep 0.1; done
kill -0 $BLOCK_PID 2>/dev/null && fail "second agent on a taken port kept running"
wait $BLOCK_PID
rc=$?
BLOCK_PID=
[ $rc != 0 ] || fail "second agent on a taken port exited 0"
grep -q "cannot listen on 127.0.0.1:$AG_PORT: Address already in use" "$TMP/busy.log" ||
	fail "no clear log line for a taken port: $(cat "$TMP/busy.log")"

# 6. the agent stops on SIGTERM
kill -TERM $AG_PID
for _ in $(seq 50); do kill -0 $AG_PID 2>/dev/null || break; sleep 0.1; done
kill -0 $AG_PID 2>/dev/null && fail "agent did not stop on SIGTERM"
wait $AG_PID
rc=$?
AG_PID=
[ $rc = 0 ] || fail "agent exited $rc on SIGTERM"
echo "PASS: node_exporter compatibility"
