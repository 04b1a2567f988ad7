#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# OTLP/HTTP export of spans and RED metrics to a local receiver (see otlp_export.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
# the driver cleans up its own processes; this catches anything left if it is killed
trap 'pkill -P $$ 2>/dev/null || true' EXIT
python3 tests/integration/otlp_export.py build/o11y-ebpf
