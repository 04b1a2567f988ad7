#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Proves the runtime stage of deploy/Containerfile installs every library the binary needs,
# without a container engine: debootstrap a minimal Debian 12 root (minbase, like the debian:12
# image) with only the runtime packages, copy the binary in, run `o11y-ebpf --version` in it
# with chroot. The root is cached under CACHE (rebuilt when the package list changes).
#   image-check.sh BINARY CACHE_DIR [MIRROR]
set -euo pipefail
bin=$1 cache=$2 mirror=${3:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)

# the runtime package list, as the Containerfile's last stage has it
pkgs=$(awk '/^FROM/ { n++ } n == 2' "$here/Containerfile" |
	sed -n '/apt-get install/,/rm -rf/p' | tr -s ' \t\\&' '\n' |
	grep -E '^[a-z0-9][a-z0-9.+-]+$' |
	grep -vE '^(apt-get|install|rm|rf|y|no-install-recommends|DEBIAN_FRONTEND|noninteractive)$' |
	sort -u | tr '\n' ',' | sed 's/,$//')
[ -n "$pkgs" ] || { echo "image-check: no runtime packages found in the Containerfile" >&2; exit 1; }
root=$cache/image-root
if [ ! -x "$root/bin/sh" ] || [ "$(cat "$cache/image-root.pkgs" 2>/dev/null)" != "$pkgs" ]; then
	echo "image-check: debootstrap bookworm (minbase) + $pkgs"
	start=$(date +%s)
	rm -rf "$root.tmp" "$root"
	mkdir -p "$cache"
	if ! debootstrap --variant=minbase --include="$pkgs" bookworm "$root.tmp" "$mirror" \
		>"$cache/image-root.log" 2>&1; then
		tail -20 "$cache/image-root.log" >&2
		rm -rf "$root.tmp"
		exit 1
	fi
	mv "$root.tmp" "$root"
	echo "$pkgs" >"$cache/image-root.pkgs"
	echo "image-check: root built in $(( $(date +%s) - start )) s"
fi
install -m 0755 "$bin" "$root/usr/sbin/o11y-ebpf"
trap 'rm -f "$root/usr/sbin/o11y-ebpf"' EXIT
missing=$(chroot "$root" ldd /usr/sbin/o11y-ebpf | grep 'not found' || true)
if [ -n "$missing" ]; then
	echo "image-check: libraries missing from the runtime packages:" >&2
	echo "$missing" >&2
	exit 1
fi
out=$(chroot "$root" /usr/sbin/o11y-ebpf --version)
echo "image-check: in the runtime root: $out"
case $out in "o11y-ebpf "*) ;; *) echo "image-check: unexpected --version output" >&2; exit 1 ;; esac
