#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Page-cache hits and misses: exact counts after drop_caches for dd, cat, nginx (sendfile) and
# python's http.server, per host, per service and per HTTP request (see pagecache.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'pkill -P $$ 2>/dev/null || true' EXIT
exec python3 tests/integration/pagecache.py build/o11y-ebpf
