#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""HTTP span capture, end to end: real servers (nginx with one worker, python's http.server,
tests/integration/ctl_server.py) on ephemeral loopback ports, a known number of requests per
case, then exact span counts and attribute values. Usage: http_spans.py AGENT MODE"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import free_port, wait_port  # noqa: E402

AGENT, MODE = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp(prefix="o11y-http-")
os.chmod(tmp, 0o755)  # nginx's worker runs as nobody
procs = []
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def start(args, **kw):
    p = subprocess.Popen(args, **kw)
    procs.append(p)
    return p


class Reader:
    """Reads whole responses from a socket, keeping what follows one for the next."""

    def __init__(self, sock, head_request=False):
        self.s, self.buf, self.head_request = sock, b"", head_request

    def _more(self):
        d = self.s.recv(65536)
        if not d:
            raise OSError("closed")
        self.buf += d

    def response(self):
        """The next final response's head (interim 1xx ones are read and skipped)."""
        while True:
            while b"\r\n\r\n" not in self.buf:
                self._more()
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            status = head.split(b"\r\n")[0].split(b" ")[1]
            clen = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    clen = int(v)
            if status in (b"204", b"304") or self.head_request:
                clen = 0
            while len(self.buf) < clen:
                self._more()
            self.buf = self.buf[clen:]
            if status not in (b"100", b"102", b"103"):  # interim: the answer follows
                return head


def exchange(data, port, host="127.0.0.1", family=socket.AF_INET, parts=None, pause=0.02,
             read_until_close=False, nresp=1, timeout=5, wait_each=False):
    """Sends data (or the list `parts` with pauses), then reads nresp responses (by
    Content-Length) or until close; with wait_each, reads a 200 after each part."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    r = Reader(s, head_request=(data or b"")[:5] == b"HEAD ")
    try:
        if wait_each:
            for p in parts:
                s.sendall(p)
                head = r.response()
                check(b" 200 " in head.split(b"\r\n")[0], f"200 for {p[:40]!r}: {head[:60]!r}")
            return b""
        for i, p in enumerate(parts or [data]):
            if i:
                time.sleep(pause)
            s.sendall(p)
        if read_until_close:
            try:
                while True:
                    r._more()
            except OSError:
                pass
        else:
            for _ in range(nresp):
                r.response()
    finally:
        s.close()
    return r.buf


def get(path, port, version="1.1", method="GET", extra="", **kw):
    req = f"{method} {path} HTTP/{version}\r\nHost: t\r\nUser-Agent: o11y-test/1\r\n{extra}\r\n"
    return exchange(req.encode(), port, **kw)




def cleanup():
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()


def run():
    # ---- servers ----------------------------------------------------------------------------
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    with open(os.path.join(www, "file.txt"), "wb") as f:
        f.write(b"y" * 100000)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("hello\n")

    ng_port = free_port()
    nginx_conf = os.path.join(tmp, "nginx.conf")
    with open(nginx_conf, "w") as f:
        f.write(f"""
    daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
    events {{ worker_connections 256; }}
    http {{
      access_log off; sendfile on; keepalive_requests 100000;
      client_body_temp_path {tmp}/b; proxy_temp_path {tmp}/p; fastcgi_temp_path {tmp}/f;
      uwsgi_temp_path {tmp}/u; scgi_temp_path {tmp}/s;
      server {{
        listen 127.0.0.1:{ng_port}; listen [::1]:{ng_port};
        root {www};
        location /static/ {{ alias {www}/; }}
        location = /ret200 {{ return 200 "ok\\n"; }}
      }}
    }}
    """)
    nginx = start(["nginx", "-c", nginx_conf, "-p", tmp], stderr=subprocess.DEVNULL)
    py_port = free_port()
    pyserv = start([sys.executable, "-m", "http.server", str(py_port), "--bind", "127.0.0.1",
                    "--directory", www], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    timings = os.path.join(tmp, "ctl_timings")
    ctl = start([sys.executable, os.path.join(HERE, "ctl_server.py")], stdout=subprocess.PIPE,
                text=True, env=dict(os.environ, CTL_TIMINGS=timings))
    ctl_port = int(ctl.stdout.readline())
    for p in (ng_port, py_port, ctl_port):
        wait_port(p)
    time.sleep(0.3)
    ng_workers = subprocess.run(["pgrep", "-P", str(nginx.pid)], capture_output=True,
                                text=True).stdout.split()
    check(len(ng_workers) == 1, f"nginx has one worker (got {ng_workers})")

    # a keep-alive connection opened (and used) before the agent starts
    pre = socket.create_connection(("127.0.0.1", ctl_port))
    pre.sendall(b"GET /pre?n=0 HTTP/1.1\r\nHost: t\r\n\r\n")
    pre.recv(4096)

    # ---- agent ------------------------------------------------------------------------------
    spans_path, log_path = os.path.join(tmp, "spans.json"), os.path.join(tmp, "agent.log")
    pids = [str(pyserv.pid), str(ctl.pid)] + ng_workers
    agent = start([AGENT, f"--http-capture={MODE}", "--print-spans=json", "--no-ebpf-host-metrics",
                   "--web.listen-address=127.0.0.1:0"] + [f"--pid={p}" for p in pids],
                  stdout=open(spans_path, "w"), stderr=open(log_path, "w"))
    end = time.time() + 20
    while time.time() < end and "running" not in open(log_path).read():
        if agent.poll() is not None:
            break
        time.sleep(0.1)
    log = open(log_path).read()
    if "running" not in log:
        print(log)
        raise RuntimeError("agent did not start")

    # ---- cases ------------------------------------------------------------------------------
    for i in (1, 2):  # the connection from before the agent: its next requests are captured
        pre.sendall(f"GET /pre?n={i} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        pre.recv(4096)
    pre.close()

    # nginx: keep-alive static file (head by writev, body by sendfile), return 200, IPv6, 404
    exchange(b"GET /static/file.txt HTTP/1.1\r\nHost: t\r\n\r\n", ng_port)
    exchange(None, ng_port, parts=[b"GET /static/file.txt HTTP/1.1\r\nHost: t\r\n\r\n"] * 10,
             wait_each=True)  # keep-alive: one request after another on one connection
    for i in range(5):
        get("/ret200", ng_port)
    for i in range(3):
        get("/ret200?v6=1", ng_port, host="::1", family=socket.AF_INET6)
    get("/nope", ng_port)
    # a 64 KiB request line: nginx answers 414, which is no span
    exchange(b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: t\r\n\r\n", ng_port, read_until_close=True)

    # python http.server (HTTP/1.0 answers, close per request, head and body by separate writes)
    for i in range(4):
        get("/index.html?i=%d" % i, py_port, read_until_close=True)
    get("/missing", py_port, read_until_close=True)
    get("/index.html", py_port, method="HEAD", read_until_close=True)

    # ctl server: every write syscall, statuses 1xx-5xx, methods, delay, pipelining, split heads
    for w in ("write", "writev", "send", "sendmsg", "sendfile"):
        for i in range(2):
            get(f"/w/{w}?w={w}&body=5000", ctl_port)
    for st in (101, 103, 200, 201, 204, 301, 404, 500, 503):
        get(f"/st/{st}?status={st}", ctl_port, read_until_close=(st == 101))
    for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        body = "abc" if m in ("POST", "PUT", "PATCH") else ""
        req = (f"{m} /m/{m} HTTP/1.1\r\nHost: t\r\n" + (f"Content-Length: {len(body)}\r\n" if body else "")
               + "\r\n" + body)
        exchange(req.encode(), ctl_port)
    for i in range(3):
        get("/delay?delay=50", ctl_port)
    exchange(b"".join(f"GET /pipe/{i} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for i in range(5)), ctl_port,
             nresp=5)
    exchange(None, ctl_port, parts=[b"GET /split HTTP/1.1\r\nHo", b"st: t\r\nX-A: b\r\n\r\n"], pause=0.05)
    get("/v10", ctl_port, version="1.0", read_until_close=True)
    get("/tp", ctl_port, extra="traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n")
    # a client that disconnects mid-request
    s = socket.create_connection(("127.0.0.1", ctl_port))
    s.sendall(b"GET /disconnect HTTP/1.1\r\nHost")
    time.sleep(0.05)
    s.close()
    # not HTTP: TLS ClientHello bytes, garbage, an HTTP/2 preface
    for junk in (bytes.fromhex("16030100a5010000a10303") + os.urandom(150), os.urandom(300),
                 b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"):
        try:
            exchange(junk, ctl_port, read_until_close=True, timeout=2)
        except OSError:
            pass

    time.sleep(0.5)
    agent.send_signal(signal.SIGINT)
    rc = agent.wait(timeout=30)
    check(rc == 0, f"agent exits 0 on SIGINT (got {rc})")
    log = open(log_path).read()

    # ---- checks -----------------------------------------------------------------------------
    spans = []
    for line in open(spans_path):
        try:
            obj = json.loads(line)
        except ValueError:
            check(False, f"stdout line is not JSON: {line!r}")
            continue
        # the server spans; their file.read children (page cache) are checked elsewhere
        if obj.get("name") != "file.read":
            spans.append(obj)
    by_port = lambda p: [s for s in spans if s["attributes"]["server.port"] == p]
    paths = Counter((s["attributes"]["server.port"], s["attributes"]["url.path"]) for s in spans)


    def one(port, path):
        got = [s for s in spans if s["attributes"]["server.port"] == port and s["attributes"]["url.path"] == path]
        check(len(got) == 1, f"one span for {path} on {port} (got {len(got)})")
        return got[0] if got else None


    for s in spans:
        a = s["attributes"]
        check(len(s["trace_id"]) == 32 and len(s["span_id"]) == 16, "id lengths")
        check(s["kind"] == "server", "kind server")
        check(s["end_time_unix_nano"] >= s["start_time_unix_nano"], "end >= start")
        check(abs(s["start_time_unix_nano"] / 1e9 - time.time()) < 120, "wall-clock times")
        check("?" not in a["url.path"], f"no query in url.path {a['url.path']}")
        check(s["status"] == ("error" if a["http.response.status_code"] >= 500 else "unset"), "status")
        check(s["name"] == a["http.request.method"] + (" " + a["http.route"] if "http.route" in a else ""), "name is {method} {route}")

    # nginx
    check(paths[(ng_port, "/static/file.txt")] == 11, f"11 static spans (got {paths[(ng_port, '/static/file.txt')]})")
    check(paths[(ng_port, "/ret200")] == 8, f"8 /ret200 spans (got {paths[(ng_port, '/ret200')]})")
    v6 = [s for s in by_port(ng_port) if s["attributes"]["client.address"] == "::1"]
    check(len(v6) == 3, f"3 IPv6 spans with client.address ::1 (got {len(v6)})")
    nope = one(ng_port, "/nope")
    check(nope and nope["attributes"]["http.response.status_code"] == 404, "nginx 404")
    check(len(by_port(ng_port)) == 20, f"20 nginx spans in all, none for the 64 KiB line (got {len(by_port(ng_port))})")
    for s in by_port(ng_port):
        check(s["resource"]["process.executable.name"] == "nginx", "nginx exe name")
        check(s["resource"]["service.name"] == "nginx", "nginx service name")
        check(str(s["resource"]["process.pid"]) == ng_workers[0], "nginx worker pid")
        check(s["attributes"]["network.protocol.version"] == "1.1", "nginx 1.1")
    # python
    check(paths[(py_port, "/index.html")] == 5, f"5 python /index.html spans (got {paths[(py_port, '/index.html')]})")
    m = one(py_port, "/missing")
    check(m and m["attributes"]["http.response.status_code"] == 404, "python 404")
    heads = [s for s in by_port(py_port) if s["attributes"]["http.request.method"] == "HEAD"]
    check(len(heads) == 1, "one python HEAD span")
    check(len(by_port(py_port)) == 6, f"6 python spans (got {len(by_port(py_port))})")
    for s in by_port(py_port):
        check(s["resource"]["process.pid"] == pyserv.pid, "python pid")
        check(s["attributes"]["client.address"] == "127.0.0.1", "python client address")
        check(s["attributes"]["user_agent.original"] == "o11y-test/1", "user agent")
    # ctl server
    check(paths[(ctl_port, "/pre")] == 2, f"2 spans on the connection opened before the agent (got {paths[(ctl_port, '/pre')]})")
    for w in ("write", "writev", "send", "sendmsg", "sendfile"):
        got = [s for s in by_port(ctl_port) if s["attributes"]["url.path"] == f"/w/{w}"]
        check(len(got) == 2 and all(s["attributes"]["http.response.status_code"] == 200 for s in got),
              f"2 spans for responses written with {w} (got {len(got)})")
    for st in (101, 200, 201, 204, 301, 404, 500, 503):
        s = one(ctl_port, f"/st/{st}")
        check(s and s["attributes"]["http.response.status_code"] == st, f"status {st}")
    s = one(ctl_port, "/st/103")
    check(s and s["attributes"]["http.response.status_code"] == 200, "103 early hints, then 200")
    for mth in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        s = one(ctl_port, f"/m/{mth}")
        check(s and s["attributes"]["http.request.method"] == mth, f"method {mth}")
    d = [s for s in by_port(ctl_port) if s["attributes"]["url.path"] == "/delay"]
    check(len(d) == 3, f"3 delayed spans (got {len(d)})")
    # the server's own measure of each /delay answer, from the read that completed the request
    # to the return of its last send: on this shared machine a 50 ms sleep can overrun, and a
    # span is exact when it equals what the server did
    served = [int(l.split()[1]) / 1e3 for l in open(timings) if l.startswith("/delay ")]
    check(len(served) == 3, f"3 /delay timings from the server (got {len(served)})")
    for s, srv in zip(sorted(d, key=lambda s: s["start_time_unix_nano"]), served):
        ms = (s["end_time_unix_nano"] - s["start_time_unix_nano"]) / 1e6
        check(50 <= ms and abs(ms - srv) <= 2,
              f"a 50 ms handler's span is its duration within 2 ms (span {ms:.3f} ms, server {srv:.3f} ms)")
        print(f"  /delay span {ms:.3f} ms, server-measured {srv:.3f} ms")
    pipe = [s["attributes"]["url.path"] for s in by_port(ctl_port) if s["attributes"]["url.path"].startswith("/pipe/")]
    check(pipe == [f"/pipe/{i}" for i in range(5)], f"5 pipelined spans in order (got {pipe})")
    # a head sent in two parts 50 ms apart: the span starts at the read that returned the first
    # part (on a busy machine the server may read both parts at once: then at that read)
    sp = one(ctl_port, "/split")
    split = [l.split() for l in open(timings) if l.startswith("/split ")]
    check(len(split) == 1, "the server's timing of /split")
    if sp and split:
        ms = (sp["end_time_unix_nano"] - sp["start_time_unix_nano"]) / 1e6
        first_ms, nreads = int(split[0][2]) / 1e3, int(split[0][3])
        # two reads: the span covers the 50 ms pause (it would be ~0 ms from the second part)
        check(abs(ms - first_ms) <= 2 and (nreads < 2 or ms >= 40),
              f"split head: the span starts at the first bytes (span {ms:.3f} ms, server "
              f"{first_ms:.3f} ms from its first read, {nreads} reads)")
    v10 = one(ctl_port, "/v10")
    check(v10 and v10["attributes"]["network.protocol.version"] == "1.0", "HTTP/1.0")
    tp = one(ctl_port, "/tp")
    check(tp and tp["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and tp.get("parent_span_id") == "00f067aa0ba902b7",
          "traceparent joins the trace")
    check(paths[(ctl_port, "/disconnect")] == 0, "no span for a client gone mid-request")
    check(len(by_port(ctl_port)) == 2 + 10 + 9 + 7 + 3 + 5 + 1 + 1 + 1,
          f"39 ctl spans, none for non-HTTP bytes (got {len(by_port(ctl_port))})")
    check(len(spans) == 20 + 6 + 39, f"65 spans in all (got {len(spans)})")
    check("http: " in log and ("socket tracepoints" in log if MODE == "sock" else "syscall tracepoints" in log),
          "the log names the capture mechanism")
    check("kernel-side failures" not in log, "no events lost in the kernel")

    return spans, log, spans_path


try:
    spans, log, spans_path = run()
except Exception as e:  # a broken setup is a failure, never a skip
    failures.append(f"setup: {e!r}")
    print(f"FAIL: setup: {e!r}")
    import traceback
    traceback.print_exc()
    spans, log, spans_path = [], "", None
finally:
    cleanup()
if failures:
    print(f"--- {len(failures)} failure(s); agent log:\n{log}")
    if spans_path and os.path.exists(spans_path):
        print(open(spans_path).read()[-3000:])
shutil.rmtree(tmp, ignore_errors=True)
print(f"http spans ({MODE}): {'FAIL' if failures else 'ok'} ({len(spans)} spans)")
sys.exit(1 if failures else 0)
