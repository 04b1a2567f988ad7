#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The HTTP capture on an older kernel: Debian 12's Linux 6.1 (no sock:sock_recv_length, so the
# syscall tracepoint path) booted under qemu (TCG: KVM fails here on a nested-virtualisation
# MSR) from a busybox initramfs holding the agent, nginx and their libraries. Inside, nginx on
# 127.0.0.1 and ::1 gets a known set of requests (new connections, keep-alive pipelining, 404,
# POST with a body, HEAD, IPv6); the spans, the agent's log and its exit status come back on
# the serial console and are checked here: exact spans, syscall tracepoints chosen, no
# kernel-side failures, exit status 0. The agent runs twice in the same boot, without and with
# the host metrics (bpf/host.bpf.c). A third run checks the page-cache counts through the
# kprobe object (6.1 has no filemap:mm_filemap_get_pages): a 4 MiB file on a vfat loop mount,
# read cold and cached by cat and by nginx. The kernel image and the modules that takes are
# cached in .output/kernel-6.1/, which also keeps the last console log.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${O11Y_AGENT:-build/o11y-ebpf} # O11Y_AGENT: another build to try
CACHE=.output/kernel-6.1
TIMEOUT=${O11Y_QEMU_TIMEOUT:-150}
TMP=$(mktemp -d /tmp/o11y-k61.XXXXXX)
QEMU_PID=
cleanup() {
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
t0=$(date +%s%N)
elapsed() { echo "$((($(date +%s%N) - ${1:-$t0}) / 100000000))" | sed 's/.$/.&/;s/^\./0./'; }

[ -x "$BIN" ] || fail "$BIN not built"
for t in qemu-system-x86_64 cpio gzip apt-get apt-cache dpkg-deb nginx python3; do
	command -v "$t" >/dev/null || fail "$t missing: run 'make deps'"
done
BUSYBOX=/bin/busybox # from busybox-static: no libraries to copy
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 ||
	fail "$BUSYBOX is not the static busybox: run 'make deps' (busybox-static)"

# 1. the kernel: the 6.1 image linux-image-amd64 depends on; vmlinuz and the modules a vfat
# loop mount needs are kept
MODS="drivers/block/loop.ko fs/fat/fat.ko fs/fat/vfat.ko fs/nls/nls_cp437.ko fs/nls/nls_ascii.ko"
have_mods() { for m in $MODS; do [ -s "$CACHE/modules/$(basename "$m")" ] || return 1; done; }
if [ ! -s "$CACHE/vmlinuz" ] || ! have_mods; then
	pkgname() {
		apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9.]*-[0-9]*-amd64\)$/\1/p' | head -1
	}
	pkg=$(pkgname)
	[ -n "$pkg" ] || { apt-get update -qq && pkg=$(pkgname); }
	[ -n "$pkg" ] || fail "apt knows no linux-image-6.1.*-amd64 (Debian 12's kernel)"
	echo "downloading $pkg"
	(cd "$TMP" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
		fail "apt-get download $pkg failed"
	mkdir -p "$TMP/deb" "$CACHE"
	dpkg-deb --fsys-tarfile "$TMP"/"$pkg"_*.deb |
		tar -x -C "$TMP/deb" --wildcards './boot/vmlinuz-*' \
			$(for m in $MODS; do echo "./lib/modules/*/kernel/$m"; done)
	rm -f "$TMP"/*.deb
	echo "$pkg" >"$CACHE/package"
	mv "$TMP"/deb/boot/vmlinuz-* "$CACHE/vmlinuz"
	mkdir -p "$CACHE/modules"
	for m in $MODS; do mv "$TMP"/deb/lib/modules/*/kernel/"$m" "$CACHE/modules/"; done
fi
echo "kernel: $(cat "$CACHE/package") ($(elapsed) s)"

# 2. the initramfs: busybox, the agent, nginx, their libraries (with their paths) and loader
R=$TMP/root
mkdir -p "$R"/{bin,dev,etc,proc,sys,tmp,www,mnt,modules}
cp "$CACHE"/modules/*.ko "$R/modules/"
cp "$BUSYBOX" "$R/bin/busybox"
cp "$BIN" "$R/bin/o11y-ebpf"
cp "$(command -v nginx)" "$R/bin/nginx"
{ ldd "$BIN"; ldd "$R/bin/nginx"; } |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
	while read -r lib; do
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
[ -e "$R/lib64/ld-linux-x86-64.so.2" ] || fail "the dynamic loader was not copied"
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
for f in hello ka hello6; do echo "$f" >"$R/www/$f.txt"; done
cat >"$R/etc/nginx.conf" <<'EOF'
daemon on; worker_processes 1; pid /tmp/nginx.pid; error_log /tmp/nginx.err;
events { worker_connections 64; }
http {
	access_log off; sendfile on;
	client_body_temp_path /tmp/b; proxy_temp_path /tmp/p; fastcgi_temp_path /tmp/f;
	uwsgi_temp_path /tmp/u; scgi_temp_path /tmp/s;
	server {
		listen 127.0.0.1:8081; listen [::1]:8081;
		root /www;
		location = /ret200 { return 200 "ok\n"; }
		location /pc/ { alias /mnt/; }
	}
}
EOF
# the requests each agent run sees, one span each; their expected spans are below (want)
cat >"$R/bin/requests" <<'EOF'
#!/bin/sh
for i in 1 2 3 4 5; do wget -q -O /dev/null http://127.0.0.1:8081/hello.txt; done
for i in 1 2; do wget -q -O /dev/null http://127.0.0.1:8081/missing.txt 2>/dev/null; done
for i in 1 2 3; do
	printf 'POST /ret200 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde' |
		nc 127.0.0.1 8081 >/dev/null
done
printf 'HEAD /hello.txt HTTP/1.0\r\n\r\n' | nc 127.0.0.1 8081 >/dev/null
# keep-alive: three pipelined requests on one connection
ka='GET /ka.txt HTTP/1.1\r\nHost: t\r\n'
printf "$ka\r\n$ka\r\n${ka}Connection: close\r\n\r\n" | nc 127.0.0.1 8081 >/dev/null
for i in 1 2; do wget -q -O /dev/null 'http://[::1]:8081/hello6.txt'; done
EOF
# page cache: the 4 MiB file on vfat (1024 pages) read cold, then cached, by cat then nginx
cat >"$R/bin/pcread" <<'EOF'
#!/bin/sh
scrape() { wget -q -O /tmp/pc$1.metrics http://127.0.0.1:9100/metrics; }
sync
echo 3 >/proc/sys/vm/drop_caches
scrape 0
cat /mnt/big.bin >/dev/null
scrape 1
cat /mnt/big.bin >/dev/null
scrape 2
echo 3 >/proc/sys/vm/drop_caches
wget -q -O /dev/null http://127.0.0.1:8081/pc/big.bin
wget -q -O /dev/null http://127.0.0.1:8081/pc/big.bin
for i in 0 1 2; do
	echo "@@ pagecache: scrape $i begin"
	grep -e '^node_page_cache_hits_total ' -e '^node_page_cache_misses_total ' /tmp/pc$i.metrics
	echo "@@ pagecache: scrape $i end"
done
EOF
cat >"$R/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
ip link set lo up
for m in loop fat vfat nls_cp437 nls_ascii; do insmod /modules/$m.ko || echo "@@ insmod $m failed"; done
dd if=/dev/zero of=/tmp/vfat.img bs=1M count=16 2>/dev/null
mkdosfs /tmp/vfat.img >/dev/null
mount -t vfat -o loop,umask=022 /tmp/vfat.img /mnt || echo "@@ vfat mount failed"
dd if=/dev/urandom of=/mnt/big.bin bs=1M count=4 2>/dev/null
echo
echo "@@ kernel $(uname -r)"
nginx -c /etc/nginx.conf -p /tmp -e /tmp/nginx.err || cat /tmp/nginx.err

# one agent run: start, wait until it serves, run its driver (the requests, or the page-cache
# reads), stop it with SIGINT, print
run() {
	name=$1
	shift
	driver=requests
	[ "$name" = pagecache ] && driver=pcread
	: >/tmp/$name.log
	o11y-ebpf "$@" >/tmp/$name.spans 2>/tmp/$name.log &
	pid=$!
	i=0
	while ! grep -q 'running; send SIGINT' /tmp/$name.log && kill -0 $pid 2>/dev/null &&
		[ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "@@ $name: agent ready after $((i * 100)) ms"
	$driver
	sleep 1
	wget -q -O /tmp/$name.metrics http://127.0.0.1:9100/metrics
	echo "@@ $name: scrape status $?"
	kill -INT $pid
	wait $pid
	echo "@@ $name: agent exit status $?"
	for part in spans log metrics; do
		echo "@@ $name: $part begin"
		cat /tmp/$name.$part
		echo "@@ $name: $part end"
	done
}
run http --print-spans=json --no-ebpf-host-metrics --web.listen-address=127.0.0.1:9100
run host --print-spans=json --web.listen-address=127.0.0.1:9100
run pagecache --print-spans=json --no-ebpf-host-metrics --web.listen-address=127.0.0.1:9100
echo "@@ done"
poweroff -f
EOF
chmod +x "$R/init" "$R/bin/requests" "$R/bin/pcread"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$TMP/initrd.gz"
echo "initramfs: $(du -k "$TMP/initrd.gz" | cut -f1) KiB ($(elapsed) s)"

# 3. boot; the console goes to a file
boot0=$(date +%s%N)
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -nographic -no-reboot -m 1G -smp 2 \
	-kernel "$CACHE/vmlinuz" -initrd "$TMP/initrd.gz" \
	-append "console=ttyS0 panic=-1 softlockup_panic=1 ${O11Y_KERNEL_APPEND:-quiet loglevel=5}" \
	</dev/null >"$TMP/console.raw" 2>&1 &
QEMU_PID=$!
qrc=0
wait "$QEMU_PID" || qrc=$?
QEMU_PID=
tr -d '\r' <"$TMP/console.raw" >"$CACHE/console.log"
C=$CACHE/console.log
echo "qemu: exit status $qrc after $(elapsed "$boot0") s"
if [ "$qrc" != 0 ] || ! grep -q '^@@ done' "$C"; then
	tail -60 "$C"
	fail "the guest did not finish (qemu status $qrc; console in $C)"
fi
grep '^@@ kernel' "$C"

# 4. the checks, on the console's sections
section() { sed -n "/^@@ $1: $2 begin\$/,/^@@ $1: $2 end\$/{//!p}" "$C"; }
rc=0
# in "info" mode a failed check is printed but does not fail the test
expect() { # run, what, shell condition
	if eval "$3"; then echo "ok: $1: $2"; elif [ "$mode" = info ]; then
		echo "info: $1: not so: $2"
	else
		echo "FAIL: $1: $2"
		rc=1
	fi
}
check_run() {
	local run=$1 mode=$2 prc=0
	section "$run" log >"$TMP/$run.log"
	section "$run" spans >"$TMP/$run.spans"
	section "$run" metrics >"$TMP/$run.metrics"
	echo "-- $run: agent log on 6.1"
	sed 's/^/   /' "$TMP/$run.log"
	expect "$run" "agent exit status 0" "grep -q '^@@ $run: agent exit status 0\$' '$C'"
	expect "$run" "HTTP capture by syscall tracepoints, no sock_recv_length on 6.1" \
		"grep -q 'http: syscall tracepoints (.*no sock_recv_length tracepoint in this kernel)' \
		 '$TMP/$run.log'"
	expect "$run" "no kernel-side failures" \
		"! grep -q 'kernel-side failures' '$TMP/$run.log' &&
		 grep -q 'http: no events lost in the kernel' '$TMP/$run.log'"
	expect "$run" "/metrics served, o11y_ebpf_http_kernel_errors_total all 0" \
		"grep -q '^@@ $run: scrape status 0\$' '$C' &&
		 [ \$(grep -c '^o11y_ebpf_http_kernel_errors_total{.*} 0\$' '$TMP/$run.metrics') -ge 1 ] &&
		 ! grep -q '^o11y_ebpf_http_kernel_errors_total{.*} [1-9]' '$TMP/$run.metrics'"
	python3 - "$TMP/$run.spans" "$run" "$mode" <<'PY' || prc=1
import json, sys
from collections import Counter
path, run, mode = sys.argv[1:4]
tag = "FAIL" if mode == "assert" else "info: not so"
v4 = "127.0.0.1"
want = Counter({("GET", "/hello.txt", 200, v4): 5, ("GET", "/missing.txt", 404, v4): 2,
                ("POST", "/ret200", 200, v4): 3, ("HEAD", "/hello.txt", 200, v4): 1,
                ("GET", "/ka.txt", 200, v4): 3, ("GET", "/hello6.txt", 200, "::1"): 2})
got, ka_ports, bad = Counter(), set(), []
for line in open(path):
    try:
        s = json.loads(line)
        a = s["attributes"]
        got[(a["http.request.method"], a["url.path"], a["http.response.status_code"],
             a["client.address"])] += 1
        if a["server.port"] != 8081 or s["resource"]["process.executable.name"] != "nginx":
            bad.append(line.strip())
        if a["url.path"] == "/ka.txt":
            ka_ports.add(a["client.port"])
    except (ValueError, KeyError) as e:
        bad.append(f"{line.strip()[:300]} ({e!r})")
for b in bad:
    print(f"{tag}: {run}: unexpected span: {b}")
if got != want:
    print(f"{tag}: {run}: spans {sorted(got.items())}, expected {sorted(want.items())}")
elif len(ka_ports) != 1:
    print(f"{tag}: {run}: the pipelined requests came from client ports {ka_ports}, not one")
if bad or got != want or len(ka_ports) != 1:
    sys.exit(1)
print(f"ok: {run}: exactly {sum(want.values())} nginx spans with the expected method, path, "
      "status and client address; the pipelined ones on one connection")
PY
	[ "$prc" = 0 ] || [ "$mode" = info ] || rc=1
	[ "$run" = host ] || return 0
	expect host "every host metrics program attached" \
		"grep -q 'host: \([0-9]*\) of \1 programs attached' '$TMP/host.log'"
	# the guest is quiet: its only TCP connections are the 14 requests and the scrape itself
	expect host "node_ebpf_tcp_connections_opened_total and _accepted_total are 15" \
		"grep -qx 'node_ebpf_tcp_connections_opened_total 15' '$TMP/host.metrics' &&
		 grep -qx 'node_ebpf_tcp_connections_accepted_total 15' '$TMP/host.metrics'"
	expect host "node_ebpf_process_execs_total counts the 14 wget and nc runs" \
		"awk '\$1 == \"node_ebpf_process_execs_total\" && \$2 >= 14 { ok = 1 } END { exit !ok }' \
		 '$TMP/host.metrics'"
}
check_run http assert
# With the host metrics on, Linux 6.1's verifier refuses tp_btf_sched_switch (bpf/bits.bpf.h:
# o11y_hist_add's bound check is on a copy of the index register) and the agent exits 1; this
# run is reported, not asserted, until that is fixed: then make it "assert".
check_run host assert
echo "-- host: node_ebpf_* series on 6.1: $(grep -c '^node_ebpf_' "$TMP/host.metrics" || true)"

# the page-cache run: kprobe object, exact counts within 2 %, the spans' attributes and paths
section pagecache log >"$TMP/pagecache.log"
section pagecache spans >"$TMP/pagecache.spans"
section pagecache metrics >"$TMP/pagecache.metrics"
echo "-- pagecache: agent log on 6.1"
sed 's/^/   /' "$TMP/pagecache.log"
expect pagecache "agent exit status 0" "grep -q '^@@ pagecache: agent exit status 0\$' '$C'"
expect pagecache "the kprobe object is used: no mm_filemap_get_pages tracepoint on 6.1" \
	"grep -q 'pagecache: kprobes on filemap_get_pages/filemap_fault (no filemap:mm_filemap_get_pages' \
	 '$TMP/pagecache.log'"
expect pagecache "no page-cache kernel-side failures" \
	"! grep -q '^o11y_ebpf_pagecache_kernel_errors_total{.*} [1-9]' '$TMP/pagecache.metrics'"
for i in 0 1 2; do section pagecache "scrape $i" >"$TMP/pc$i.metrics"; done
python3 - "$TMP" <<'PY' || rc=1
import json, sys
tmp = sys.argv[1]
def counts(i):
    v = {}
    for line in open(f"{tmp}/pc{i}.metrics"):
        k, n = line.split()
        v[k] = float(n)
    return v.get("node_page_cache_hits_total", 0), v.get("node_page_cache_misses_total", 0)
(h0, m0), (h1, m1), (h2, m2) = counts(0), counts(1), counts(2)
near = lambda v, want: abs(v - want) <= want * 0.02
fails = 0
def check(ok, what):
    global fails
    print(("ok: pagecache: " if ok else "FAIL: pagecache: ") + what)
    fails += not ok
check(near(m1 - m0, 1024) and h1 - h0 <= 20,
      f"cold cat: {m1 - m0:.0f} misses ~ 1024, {h1 - h0:.0f} hits ~ 0")
check(near(h2 - h1, 1024) and m2 - m1 <= 20,
      f"cached cat: {h2 - h1:.0f} hits ~ 1024, {m2 - m1:.0f} misses ~ 0")
spans = []
for line in open(f"{tmp}/pagecache.spans"):
    try:
        spans.append(json.loads(line))
    except ValueError:
        pass
server = [s for s in spans if s["kind"] == "server"
          and s["attributes"].get("url.path") == "/pc/big.bin"]
check(len(server) == 2, f"2 nginx spans for /pc/big.bin (got {len(server)})")
for s, what, want in zip(server, ("cold", "cached"), ((0, 1024), (1024, 0))):
    a = s["attributes"]
    h, m = a.get("o11y.page_cache.hits", -1), a.get("o11y.page_cache.misses", -1)
    ok = (near(h, want[0]) if want[0] else 0 <= h <= 20) and \
         (near(m, want[1]) if want[1] else 0 <= m <= 20)
    check(ok, f"{what} request: hits {h}, misses {m} ~ {want}")
    kids = [k for k in spans if k["name"] == "file.read" and k["parent_span_id"] == s["span_id"]]
    paths = [k["attributes"]["file.path"] for k in kids]
    check(paths == ["/mnt/big.bin"], f"{what} request: one file.read child, path {paths}")
sys.exit(1 if fails else 0)
PY
echo "total $(elapsed) s"
exit $rc
