#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Page-cache hits and misses, checked against what the test does to the page cache.

Each case drops the page cache, reads a 32 MiB file (8192 pages) once cold and once cached, and
checks the counts within 2 %: per service on /metrics (dd, cat, nginx, python), host-wide, and
on the HTTP spans (o11y.page_cache.*) with their file.read children. Also: a small cached file
is a hit; files on tmpfs and pipe reads count nothing; a process whose threads read and exit
keeps their counts, once (the kernel keeps live threads' counts per thread and moves them to
the process when a thread exits). Other tests on this machine may drop the
page cache too (vm.drop_caches): a case that sees a drop it did not make is run again.
"""
import ctypes, json, mmap, os, re, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import free_port  # noqa: E402

_libc = ctypes.CDLL(None, use_errno=True)


def resident_pages(path):
    """Pages of path in the page cache now (mincore(2)): an independent check that a "cached"
    read really starts cached. This VM's kernel may reclaim on its own (DAMON), not only
    through vm.drop_caches."""
    _libc.mmap.restype = ctypes.c_void_p
    _libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                           ctypes.c_int, ctypes.c_long]
    _libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    _libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        addr = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap")
        try:
            npages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
            vec = (ctypes.c_ubyte * npages)()
            if _libc.mincore(addr, size, vec) != 0:
                raise OSError(ctypes.get_errno(), "mincore")
            return sum(v & 1 for v in vec)
        finally:
            _libc.munmap(addr, size)
    finally:
        os.close(fd)

AGENT = sys.argv[1]
PAGES = 8192
TOL = 0.02
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def drops():
    for line in open("/proc/vmstat"):
        if line.startswith("drop_pagecache "):
            return int(line.split()[1])
    return 0


def drop_caches():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def near(v, want):
    return abs(v - want) <= want * TOL


tmp = tempfile.mkdtemp(prefix="o11y-pc-", dir="/var/tmp")  # ext4 here; /tmp may be tmpfs
os.chmod(tmp, 0o755)  # nginx's workers run as www-data
procs = []
try:
    big = os.path.join(tmp, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(PAGES * 4096))
    with open(os.path.join(tmp, "small.txt"), "w") as f:
        f.write("hello\n" * 100)
    mport, nport, pport = free_port(), free_port(), free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 64; }}
http {{ access_log off; sendfile on;
  server {{ listen 127.0.0.1:{nport}; root {tmp}; }} }}
""")
    # a copy named pc-nginx: its service (executable name) is its own; nginx rewrites its
    # environment for its title, so OTEL_SERVICE_NAME would not be seen
    shutil.copy(shutil.which("nginx") or "/usr/sbin/nginx", os.path.join(tmp, "pc-nginx"))
    procs.append(subprocess.Popen([os.path.join(tmp, "pc-nginx"), "-c", conf]))
    procs.append(subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                   str(pport)], cwd=tmp, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL,
                                  env=dict(os.environ, OTEL_SERVICE_NAME="pc-python")))
    spans_path = os.path.join(tmp, "spans.json")
    log_path = os.path.join(tmp, "agent.log")
    agent = subprocess.Popen([AGENT, f"--web.listen-address=127.0.0.1:{mport}",
                              "--print-spans=json", f"--port={nport}", f"--port={pport}",
                              "--log-level=info"],
                             stdout=open(spans_path, "w"), stderr=open(log_path, "w"))
    procs.append(agent)

    def metrics():
        body = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5).read()
        out = {}
        for line in body.decode().splitlines():
            m = re.match(r'^(node_page_cache_\w+)(?:\{service_name="([^"]*)"\})? (\S+)$', line)
            if m:
                out[(m.group(1), m.group(2))] = float(m.group(3))
        return out

    for _ in range(100):
        try:
            if ("node_page_cache_hits_total", None) in metrics():
                break
        except OSError:
            pass
        time.sleep(0.1)
    check(("node_page_cache_hits_total", None) in metrics(), "agent serves node_page_cache_*")

    def svc(m, name):
        return (m.get(("node_page_cache_service_hits_total", name), 0),
                m.get(("node_page_cache_service_misses_total", name), 0))

    def settle():
        time.sleep(1.3)  # the per-service fold runs once a second

    def run_case(name, fn, tries=8):
        """fn() -> list of (ok, what); retried when someone else dropped the caches meanwhile."""
        for attempt in range(tries):
            d0 = drops()
            res = fn()
            if res is None and attempt < tries - 1:  # the file was not all cached when it should be
                print(f"note {name}: the kernel evicted pages of the cached file; again")
                continue
            if res is None:
                res = [(False, "the file stayed cached for the cached read (mincore)")]
            if drops() == d0 + 1 or attempt == tries - 1:
                for ok, what in res:
                    check(ok, f"{name}: {what}")
                return
            print(f"note {name}: another process dropped the page cache; again")

    # ---- dd and cat: per service and host ----------------------------------------------------
    def reader_case(cmd, service):
        def fn():
            subprocess.run(cmd, check=True)  # warm the program's own files
            settle()
            m0 = metrics()
            drop_caches()
            subprocess.run(cmd, check=True)
            settle()
            m1 = metrics()
            if resident_pages(big) < PAGES:
                return None
            subprocess.run(cmd, check=True)
            settle()
            m2 = metrics()
            h1 = (svc(m1, service)[0] - svc(m0, service)[0], svc(m1, service)[1] - svc(m0, service)[1])
            h2 = (svc(m2, service)[0] - svc(m1, service)[0], svc(m2, service)[1] - svc(m1, service)[1])
            host_m = m1[("node_page_cache_misses_total", None)] - m0[("node_page_cache_misses_total", None)]
            host_h = m2[("node_page_cache_hits_total", None)] - m1[("node_page_cache_hits_total", None)]
            return [
                (near(h1[1], PAGES), f"cold read: {service} misses {h1[1]:.0f} ~ {PAGES}"),
                (h1[0] <= PAGES * TOL, f"cold read: {service} hits {h1[0]:.0f} ~ 0"),
                (near(h2[0], PAGES), f"cached read: {service} hits {h2[0]:.0f} ~ {PAGES}"),
                (h2[1] <= PAGES * TOL, f"cached read: {service} misses {h2[1]:.0f} ~ 0"),
                (host_m >= h1[1], f"host misses grew by at least the service's ({host_m:.0f})"),
                (host_h >= h2[0], f"host hits grew by at least the service's ({host_h:.0f})"),
            ]
        return fn

    run_case("dd", reader_case(["dd", f"if={big}", "of=/dev/null", "bs=4k", "status=none"], "dd"))
    run_case("cat", reader_case(["sh", "-c", f"exec cat {big} > /dev/null"], "cat"))

    # ---- HTTP: per request, with file.read children, and per service -------------------------
    def spans_now():
        out = []
        for line in open(spans_path):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def fetch(port, path):
        return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).read()

    def http_case(port, service):
        def fn():
            fetch(port, "/small.txt")  # warm up the server (mime types, first-use files)
            settle()
            n0 = len(spans_now())
            m0 = metrics()
            drop_caches()
            b1 = fetch(port, "/big.bin")
            if resident_pages(big) < PAGES:
                return None
            b2 = fetch(port, "/big.bin")
            fetch(port, "/small.txt")
            fetch(port, "/small.txt")
            time.sleep(2)
            m1 = metrics()
            new = spans_now()[n0:]
            server = [s for s in new if s["kind"] == "server"]
            child = [s for s in new if s["name"] == "file.read"]
            res = [(len(b1) == len(b2) == PAGES * 4096, "bodies are whole")]
            res.append((len(server) == 4, f"4 server spans (got {len(server)})"))
            if len(server) != 4:
                return res
            for i, what in ((0, "cold"), (1, "cached")):
                a = server[i]["attributes"]
                hits, misses = a.get("o11y.page_cache.hits", -1), a.get("o11y.page_cache.misses", -1)
                want_m, want_h = (PAGES, 0) if i == 0 else (0, PAGES)
                res.append((near(misses, want_m) if want_m else misses <= PAGES * TOL,
                            f"{what} request: o11y.page_cache.misses {misses} ~ {want_m}"))
                res.append((near(hits, want_h) if want_h else hits <= PAGES * TOL,
                            f"{what} request: o11y.page_cache.hits {hits} ~ {want_h}"))
                kids = [c for c in child if c["parent_span_id"] == server[i]["span_id"]
                        and c["attributes"]["file.path"] == big]
                res.append((len(kids) == 1, f"{what} request: one file.read child for {big}"))
                if kids:
                    k = kids[0]
                    res.append((k["trace_id"] == server[i]["trace_id"] and k["kind"] == "internal",
                                f"{what} file.read: same trace, kind internal"))
                    res.append((k["attributes"]["o11y.page_cache.hit"] == (i == 1),
                                f"{what} file.read: o11y.page_cache.hit {k['attributes']['o11y.page_cache.hit']}"))
                    res.append((near(k["attributes"]["o11y.file.bytes_read"], PAGES * 4096),
                                f"{what} file.read: bytes {k['attributes']['o11y.file.bytes_read']}"))
            a = server[3]["attributes"]
            res.append((a.get("o11y.page_cache.misses") == 0,
                        f"small cached file: o11y.page_cache.misses {a.get('o11y.page_cache.misses')} == 0"))
            kids = [c for c in child if c["parent_span_id"] == server[3]["span_id"]]
            res.append((any(k["attributes"]["file.path"].endswith("/small.txt") and
                            k["attributes"]["o11y.page_cache.hit"] is True for k in kids),
                        "small cached file: file.read says hit"))
            h = svc(m1, service)[0] - svc(m0, service)[0]
            mi = svc(m1, service)[1] - svc(m0, service)[1]
            res.append((near(mi, PAGES), f"service {service}: misses {mi:.0f} ~ {PAGES}"))
            res.append((near(h, PAGES), f"service {service}: hits {h:.0f} ~ {PAGES}"))
            return res
        return fn

    run_case("nginx", http_case(nport, "pc-nginx"))
    run_case("python", http_case(pport, "pc-python"))

    # ---- file.path follows renames: the kernel keeps each path it resolved, keyed by the
    # dentries' names, so a renamed directory must give a new path, not the one it kept -------
    def path_of_fetch(port, url):
        n0 = len(spans_now())
        fetch(port, url)
        for _ in range(50):
            new = spans_now()[n0:]
            server = [x for x in new if x["kind"] == "server"]
            if server:
                time.sleep(0.2)
                new = spans_now()[n0:]
                return [x["attributes"]["file.path"] for x in new if x["name"] == "file.read"
                        and x["parent_span_id"] == server[0]["span_id"]]
            time.sleep(0.1)
        return []

    os.makedirs(os.path.join(tmp, "ra", "sub"))
    with open(os.path.join(tmp, "ra", "sub", "f.txt"), "w") as f:
        f.write("renamed\n")
    for port, who in ((nport, "nginx"), (pport, "python")):
        got = path_of_fetch(port, "/ra/sub/f.txt")
        check(got == [os.path.join(tmp, "ra", "sub", "f.txt")], f"{who}: file.path {got}")
        os.rename(os.path.join(tmp, "ra"), os.path.join(tmp, "rb"))
        got = path_of_fetch(port, "/rb/sub/f.txt")
        check(got == [os.path.join(tmp, "rb", "sub", "f.txt")],
              f"{who}: after the directory is renamed: file.path {got}")
        os.rename(os.path.join(tmp, "rb"), os.path.join(tmp, "ra"))

    # ---- threads that read and exit: counted once, live or exited -----------------------------
    reader = f"""
import sys, threading
def rd():
    with open({big!r}, "rb") as f:
        while f.read(65536):
            pass
def step(msg):
    print(msg, flush=True)
    sys.stdin.readline()
step("ready")
ts = [threading.Thread(target=rd) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
step("threads done")
rd()
step("main done")
"""

    def threads_case():
        subprocess.run(["cat", big], stdout=subprocess.DEVNULL, check=True)  # cache it
        p = subprocess.Popen([sys.executable, "-c", reader], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, OTEL_SERVICE_NAME="pc-threads"))
        ms = []
        try:
            for want in ("ready", "threads done", "main done"):
                line = p.stdout.readline().strip()
                if line != want:
                    return [(False, f"reader said {line!r}, not {want!r}")]
                settle()
                ms.append(metrics())
                if want != "ready" and resident_pages(big) < PAGES:
                    return None
                p.stdin.write("\n")
                p.stdin.flush()
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        settle()
        ms.append(metrics())
        d = [(svc(b, "pc-threads")[0] - svc(a, "pc-threads")[0],
              svc(b, "pc-threads")[1] - svc(a, "pc-threads")[1]) for a, b in zip(ms, ms[1:])]
        return [
            (near(d[0][0], 4 * PAGES), f"4 threads that exited: hits {d[0][0]:.0f} ~ {4 * PAGES}"),
            (d[0][1] <= PAGES * TOL, f"4 threads that exited: misses {d[0][1]:.0f} ~ 0"),
            (near(d[1][0], PAGES), f"then the live main thread: hits {d[1][0]:.0f} ~ {PAGES}"),
            (d[2][0] + d[2][1] < 64,
             f"the process exits: its counts move, not added again ({d[2][0] + d[2][1]:.0f} < 64)"),
        ]

    for attempt in range(8):
        res = threads_case()
        if res is not None:
            break
        print("note threads: the kernel evicted pages of the cached file; again")
    for ok, what in res or [(False, "threads: the file stayed cached (mincore)")]:
        check(ok, "threads: " + what)

    # ---- what must not count: tmpfs, pipes -----------------------------------------------------
    mnt = os.path.join(tmp, "tmpfs")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt], check=True)
    try:
        shutil.copy(big, os.path.join(mnt, "big.bin"))
        dd = ["dd", f"if={mnt}/big.bin", "of=/dev/null", "bs=4k", "status=none"]
        subprocess.run(dd, check=True)
        settle()
        m0 = metrics()
        subprocess.run(dd, check=True)
        subprocess.run(["sh", "-c", "head -c 33554432 /dev/zero | dd of=/dev/null bs=4k status=none"],
                       check=True)
        settle()
        m1 = metrics()
        h = svc(m1, "dd")[0] - svc(m0, "dd")[0]
        mi = svc(m1, "dd")[1] - svc(m0, "dd")[1]
        check(h + mi < 64, f"tmpfs file and pipe reads: dd counted {h + mi:.0f} pages (< 64)")
    finally:
        subprocess.run(["umount", mnt])

    agent.send_signal(signal.SIGINT)
    check(agent.wait(timeout=30) == 0, "agent exits 0")
    log = open(log_path).read()
    check("pagecache: tp_btf filemap" in log, "agent logs the page-cache mechanism")
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    shutil.rmtree(tmp, ignore_errors=True)

print(f"pagecache: {'FAIL' if failures else 'ok'}")
sys.exit(1 if failures else 0)
