#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The container image's runtime packages are enough to run the binary (deploy/image-check.sh:
# debootstrap root cached in .output/, chroot, --version), and the check does catch a missing
# library (one is hidden from the root for a moment).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=.output/image-root
hidden=""
restore() {
	if [ -n "$hidden" ] && [ -e "$hidden.hidden" ]; then
		mv "$hidden.hidden" "$hidden"
	fi
}
trap restore EXIT

start=$(date +%s)
deploy/image-check.sh build/o11y-ebpf .output
echo "ok:   image check passed ($(( $(date +%s) - start )) s)"

lib=$(chroot "$root" sh -c 'ls /usr/lib/*/libjson-c.so.5* | head -n1')
hidden=$root$lib
mv "$hidden" "$hidden.hidden"
if out=$(deploy/image-check.sh build/o11y-ebpf .output 2>&1); then
	echo "FAIL: image check passed without $lib"
	exit 1
fi
echo "$out" | grep -q 'libjson-c.so.5 => not found' || { echo "FAIL: $out"; exit 1; }
echo "ok:   image check fails when a runtime library is missing"
restore
hidden=""
deploy/image-check.sh build/o11y-ebpf .output >/dev/null
echo "ok:   and passes again once it is back"
