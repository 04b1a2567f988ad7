#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# deploy/backend/ (Prometheus config, alert rules, Grafana dashboard) against Debian's Prometheus
# scraping the agent on loopback; see backend_prometheus.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
# on the disk, not a tmpfs: the test drops the page cache and reads its files cold
tmp=$(mktemp -d /var/tmp/o11y-backend.XXXXXX)
cleanup() {
	# the driver stops its own processes on SIGTERM; this catches anything left if it died
	pkill -TERM -P $$ 2>/dev/null || true
	sleep 0.5
	if mountpoint -q "$tmp/fill"; then umount "$tmp/fill" || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
timeout --signal=TERM --kill-after=10 150 python3 tests/integration/backend_prometheus.py build/o11y-ebpf "$tmp"
