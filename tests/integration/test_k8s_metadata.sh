#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Kubernetes metadata on spans and RED metrics: servers in a k3s-shaped cgroup v2 hierarchy, a
# fake API server on loopback (see k8s_metadata.py). Uses the cgroup v2 hierarchy mounted on
# this machine (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts), else mounts one.
# Every cgroup it made is removed on exit, pass or fail, after killing what still runs in it.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/o11y-k8s-XXXXXX)
mounted=""

cleanup() {
	pkill -P $$ 2>/dev/null || true
	if [ -f "$tmp/cgroups" ]; then
		# innermost first; kill whatever is left in them (only our servers can be)
		for cg in $(tac "$tmp/cgroups"); do
			[ -d "$cg" ] || continue
			for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
			for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
			[ -d "$cg" ] && echo "cleanup: cannot remove $cg" >&2
		done
	fi
	if [ -n "$mounted" ]; then
		umount "$mounted" && rmdir "$mounted"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

cg2=$(findmnt -n -t cgroup2 -o TARGET | head -n1 || true)
if [ -z "$cg2" ]; then
	mounted="$tmp-cg2"
	mkdir -p "$mounted"
	mount -t cgroup2 none "$mounted"
	cg2=$mounted
fi
echo "cgroup v2 hierarchy: $cg2"
python3 tests/integration/k8s_metadata.py build/o11y-ebpf "$cg2" "$tmp"
