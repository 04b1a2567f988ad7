#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs every tests/integration/test_*.sh as root; each exits 0 for pass. With CI=true nothing
# may be skipped: not being root is a failure, not a reason to skip.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
	echo "integration tests need root (they load BPF programs): run 'sudo make test'" >&2
	exit 1
fi
passed=0 failed=0 failed_names=()
for t in tests/integration/test_*.sh; do
	name=$(basename "$t" .sh)
	echo "== $name"
	start=$(date +%s)
	if bash "$t"; then
		passed=$((passed + 1))
		echo "-- $name: passed ($(( $(date +%s) - start )) s)"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		echo "-- $name: FAILED ($(( $(date +%s) - start )) s)"
	fi
done
echo
[ "$failed" -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
