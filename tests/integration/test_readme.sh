#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The README documents every flag and environment variable the agent has (its --help).
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=0
help=$(build/o11y-ebpf --help)
readme=$(sed 's/\[no-\]//g' README.md)
for flag in $(grep -oE -- '--(\[no-\])?[a-z][a-z0-9.-]*' <<<"$help" | sed 's/\[no-\]//' | sort -u); do
	if ! grep -qF -- "$flag" <<<"$readme"; then
		echo "README.md does not mention $flag"
		missing=$((missing + 1))
	fi
done
for env in $(grep -oE 'env [A-Z0-9_]+' <<<"$help" | awk '{print $2}' | sort -u); do
	if ! grep -qF -- "$env" <<<"$readme"; then
		echo "README.md does not mention $env"
		missing=$((missing + 1))
	fi
done
echo "readme: $missing flags or variables missing"
[ "$missing" -eq 0 ]
