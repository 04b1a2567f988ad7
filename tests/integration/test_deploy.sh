#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# deploy/: the Kubernetes manifests (deploy_manifests.py), `make install` (DESTDIR and prefix,
# an existing /etc/default file kept), and `systemd-analyze verify` on the installed unit.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/o11y-deploy-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

python3 tests/integration/deploy_manifests.py build/o11y-ebpf

# DESTDIR + prefix: the layout a package would ship
make -s install DESTDIR="$tmp/pkg" prefix=/usr
for f in usr/sbin/o11y-ebpf usr/lib/systemd/system/o11y-ebpf.service etc/default/o11y-ebpf; do
	[ -f "$tmp/pkg/$f" ] || { echo "FAIL: make install did not install /$f"; exit 1; }
done
grep -qx 'ExecStart=/usr/sbin/o11y-ebpf $O11Y_ARGS' "$tmp/pkg/usr/lib/systemd/system/o11y-ebpf.service" ||
	{ echo "FAIL: ExecStart does not point at the installed binary"; exit 1; }
echo "ok:   make install DESTDIR=... prefix=/usr"
# an upgrade keeps the admin's settings
echo "O11Y_ARGS=--log-level=debug" >"$tmp/pkg/etc/default/o11y-ebpf"
make -s install DESTDIR="$tmp/pkg" prefix=/usr
grep -qx 'O11Y_ARGS=--log-level=debug' "$tmp/pkg/etc/default/o11y-ebpf" ||
	{ echo "FAIL: make install overwrote /etc/default/o11y-ebpf"; exit 1; }
echo "ok:   a reinstall keeps /etc/default/o11y-ebpf"

# systemd-analyze verify needs ExecStart's binary where the unit says: install under $tmp
make -s install prefix="$tmp/usr" sysconfdir="$tmp/etc"
unit=$tmp/usr/lib/systemd/system/o11y-ebpf.service
out=$(systemd-analyze verify "$unit" 2>&1) || { echo "FAIL: systemd-analyze verify: $out"; exit 1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify warns: $out"; exit 1; }
echo "ok:   systemd-analyze verify: clean"
for d in ProtectSystem=strict ProtectHome=read-only PrivateTmp=yes NoNewPrivileges=yes \
	'EnvironmentFile=-/etc/default/o11y-ebpf' \
	'CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_RESOURCE CAP_SYS_PTRACE CAP_DAC_READ_SEARCH'; do
	grep -qx "$d" "$unit" || { echo "FAIL: unit lacks $d"; exit 1; }
done
echo "ok:   unit sandboxing and capability directives"
