#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# HTTP server spans from nginx, python's http.server and ctl_server.py, exact counts and
# attributes, through each capture mechanism this kernel offers (see http_spans.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'pkill -P $$ 2>/dev/null || true' EXIT
modes=syscalls
# the socket tracepoints exist from Linux 6.5; where they do, test both paths
# (grep -c reads all of bpftool's output: grep -q would stop early, and under pipefail the
# SIGPIPE bpftool gets would read as "not found")
if bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -c 'btf_trace_sock_recv_length' >/dev/null; then
	modes="sock syscalls"
fi
rc=0
echo "capture mechanisms tested: $modes"
for m in $modes; do
	python3 tests/integration/http_spans.py build/o11y-ebpf "$m" || rc=1
done
exit $rc
