#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""OTLP export end to end: the agent traces python's http.server (ephemeral loopback port) and
exports to tests/integration/otlp_receiver.py; bodies are decoded with protoc against proto/.
Cases: a receiver answering 503 then 200 (data arrives exactly once), a dead receiver (agent
keeps capturing, bounded memory, prompt exit), and promtool on a live /metrics scrape.
Usage: otlp_export.py AGENT"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import free_port, wait_for, listen_port, parse_text, decode, attrs  # noqa: E402

AGENT = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
tmp = tempfile.mkdtemp(prefix="o11y-otlp-")
procs = []
failures = []
N_ROOT, N_USERS = 7, 13  # requests to "/" (200) and to /users/<n> (404)


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def start(args, **kw):
    p = subprocess.Popen(args, **kw)
    procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=15):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def http_server():
    d = os.path.join(tmp, "www")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write("hello\n")
    p = start([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"], cwd=d,
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = wait_for(lambda: listen_port(p.pid), 10, "http.server")
    return p, port


def receiver(name, *extra):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    pf = os.path.join(tmp, name + ".port")
    p = start([sys.executable, os.path.join(HERE, "otlp_receiver.py"), "--dir", d,
               "--port-file", pf, *extra])
    port = int(wait_for(lambda: os.path.exists(pf) and open(pf).read(), 10, "receiver"))
    return p, port, d


def agent(server_pid, endpoint, name, env_extra=None, args=()):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("OTEL_") or k.startswith("O11Y_"):
            del env[k]
    env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200",
                "OTEL_METRIC_EXPORT_INTERVAL": "500", "OTEL_BSP_EXPORT_TIMEOUT": "3000",
                "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=it%20test,team=obs"})
    env.update(env_extra or {})
    err = open(os.path.join(tmp, name + ".err"), "w")
    out = open(os.path.join(tmp, name + ".out"), "w")
    p = start([AGENT, "--pid", str(server_pid), "--web.listen-address=127.0.0.1:0", *args],
              env=env, stdout=out, stderr=err)
    wait_for(lambda: "running;" in open(err.name).read() or p.poll() is not None, 30, "agent")
    if p.poll() is not None:
        raise RuntimeError("agent exited: " + open(err.name).read())
    return p, err.name, out.name


def requests(port):
    for i in range(N_ROOT):
        subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"], check=True)
    for i in range(N_USERS):
        subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/users/{i}"],
                       check=True)


def metrics_url(errfile):
    m = re.search(r"serving /metrics on (http://\S+)", open(errfile).read())
    return m.group(1) if m else None


def case_retry_then_ok():
    print("== receiver answers 503 (Retry-After: 1) then 200", flush=True)
    srv, sport = http_server()
    rx, rport, d = receiver("rx1", "--fail-first", "1", "--retry-after", "1")
    ag, err, _ = agent(srv.pid, f"http://127.0.0.1:{rport}", "agent1")
    requests(sport)
    # spans: delay 200 ms, one 503 answered with Retry-After 1 s
    want = N_ROOT + N_USERS

    def spans_in():
        total = []
        for f in sorted(os.listdir(d)):
            if f.startswith("traces-"):
                t = decode(os.path.join(d, f),
                           "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                           "otlp_collector_trace.proto")
                for rs in t.get("resource_spans", []):
                    for ss in rs["scope_spans"]:
                        for sp in ss.get("spans", []):
                            if sp.get("name") not in ("file.read", ["file.read"]):  # page cache
                                total.append((rs, sp))
        return total

    try:
        wait_for(lambda: len(spans_in()) >= want, 15, f"{want} spans at the receiver")
    except RuntimeError as e:
        print(e)
    # the promtool check while the agent is live
    url = metrics_url(err)
    check(url is not None, "agent serves /metrics")
    if url:
        wait_for(lambda: "http_server_request_duration_seconds_count" in
                 urllib.request.urlopen(url).read().decode(), 10, "RED series on /metrics")
        body = urllib.request.urlopen(url).read().decode()
        mine = re.compile(r"^(# (HELP|TYPE) )?(http_server_request_duration_seconds|"
                          r"o11y_ebpf_(otlp|red|routes)_)")
        sub = "".join(l + "\n" for l in body.splitlines() if mine.match(l))
        r = subprocess.run(["promtool", "check", "metrics"], input=sub, capture_output=True,
                           text=True)
        check(r.returncode == 0, "promtool check metrics on our families: "
              + (r.stdout + r.stderr).strip()[:500])
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                           text=True)
        print("info: promtool on the whole scrape: rc=%d %s" % (r.returncode,
              (r.stdout + r.stderr).strip()[:300]))
        m = re.search(r'http_server_request_duration_seconds_count\{[^}]*http_route="/users/\{id\}"'
                      r'[^}]*http_response_status_code="404"\} (\d+)', body)
        check(m is not None and int(m.group(1)) == N_USERS,
              f"/metrics counts {N_USERS} requests for /users/{{id}} 404 (got {m and m.group(1)})")
        m = re.search(r'o11y_ebpf_otlp_spans_exported_total (\d+)', body)
        check(m is not None and int(m.group(1)) == want, f"o11y_ebpf_otlp_spans_exported_total "
              f"is {want} (got {m and m.group(1)})")
    code = stop(ag, signal.SIGINT)
    check(code == 0, f"agent exits 0 on SIGINT (got {code})")
    spans = spans_in()
    check(len(spans) == want, f"{want} spans received (got {len(spans)})")
    ids = [sp["span_id"][0] for _, sp in spans]
    check(len(set(ids)) == len(ids), "each span received exactly once")
    log = open(os.path.join(d, "attempts.log")).read().splitlines()
    check(any(l.startswith("traces ") and " 503 " in l for l in log), "a traces request got 503")
    check(all("ct=application/x-protobuf" in l and "ce=gzip" in l for l in log),
          "every request is application/x-protobuf, gzip")
    if spans:
        rs, _ = spans[0]
        ra = attrs(rs["resource"][0])
        check(ra.get("process.pid") == str(srv.pid), f"resource process.pid = {srv.pid}")
        check(ra.get("service.name", "").startswith("python3"), "resource service.name python3*")
        check(ra.get("telemetry.sdk.name") == "o11y-ebpf", "telemetry.sdk.name")
        check(ra.get("telemetry.sdk.language") == "c", "telemetry.sdk.language")
        check(ra.get("deployment.environment") == "it test" and ra.get("team") == "obs",
              "OTEL_RESOURCE_ATTRIBUTES on the resource, percent-decoded")
        check(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                           ra.get("service.instance.id", "")) is not None, "service.instance.id")
        check("process.command_line" not in ra, "no process.command_line")
        names = {}
        for _, sp in spans:
            a = attrs(sp)
            names[(sp["name"][0], a.get("http.response.status_code"))] = \
                names.get((sp["name"][0], a.get("http.response.status_code")), 0) + 1
            if sp["name"][0] == "GET /":
                ok = (sp["kind"][0] == "SPAN_KIND_SERVER" and a.get("url.path") == "/" and
                      a.get("url.scheme") == "http" and a.get("server.port") == str(sport) and
                      a.get("client.address") == "127.0.0.1" and "client.port" in a and
                      a.get("user_agent.original", "").startswith("curl/") and
                      a.get("network.protocol.version") in ("1.0", "1.1") and
                      len(sp["trace_id"][0]) > 0)
                if not ok:
                    check(False, f"span attributes of GET /: {sp}")
        check(names.get(("GET /", "200")) == N_ROOT, f"{N_ROOT} spans 'GET /' 200 ({names})")
        check(names.get(("GET /users/{id}", "404")) == N_USERS,
              f"{N_USERS} spans 'GET /users/{{id}}' 404")
    # metrics: the last body holds the final cumulative counts
    mfiles = sorted((f for f in os.listdir(d) if f.startswith("metrics-")),
                    key=lambda f: int(f.split("-")[1].split(".")[0]))
    check(len(mfiles) >= 2, f"metrics exported periodically ({len(mfiles)} bodies)")
    if mfiles:
        m = decode(os.path.join(d, mfiles[-1]),
                   "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
                   "otlp_collector_metrics.proto")
        counts = {}
        for rm in m.get("resource_metrics", []):
            check(attrs(rm["resource"][0]).get("deployment.environment") == "it test",
                  "metrics resource carries OTEL_RESOURCE_ATTRIBUTES")
            for sm in rm["scope_metrics"]:
                for met in sm["metrics"]:
                    check(met["name"][0] == "http.server.request.duration" and
                          met["unit"][0] == "s", "metric name and unit")
                    h = met["histogram"][0]
                    check(h["aggregation_temporality"][0] ==
                          "AGGREGATION_TEMPORALITY_CUMULATIVE", "cumulative")
                    for dp in h["data_points"]:
                        a = attrs(dp)
                        counts[(a.get("http.route"), a.get("http.response.status_code"))] = \
                            int(dp["count"][0])
                        check(sum(int(x) for x in dp["bucket_counts"]) == int(dp["count"][0])
                              and len(dp["bucket_counts"]) == 15 and
                              len(dp["explicit_bounds"]) == 14, "bucket counts add up")
                        check(len(dp.get("exemplars", [])) >= 1, "exemplars present")
        check(counts.get(("/", "200")) == N_ROOT, f"histogram count {N_ROOT} for / 200 ({counts})")
        check(counts.get(("/users/{id}", "404")) == N_USERS, f"histogram count {N_USERS} for "
              f"/users/{{id}} 404")
    stop(rx)
    stop(srv)


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime, stime


def case_dead_receiver():
    print("== receiver down (port closed)", flush=True)
    srv, sport = http_server()
    dead = free_port()
    ag, err, out = agent(srv.pid, f"http://127.0.0.1:{dead}", "agent2",
                         {"OTEL_BSP_MAX_QUEUE_SIZE": "16"}, ["--print-spans=json"])
    rounds, rss = 4, []
    for _ in range(rounds):
        requests(sport)
        time.sleep(0.5)
        rss.append(rss_kib(ag.pid))
    total = rounds * (N_ROOT + N_USERS)
    # server spans only: file.read lines are the page-cache children of some of them
    server_lines = lambda: sum(1 for l in open(out) if '"name":"file.read"' not in l)
    wait_for(lambda: server_lines() >= total, 10, "printed spans")
    time.sleep(0.5)
    check(ag.poll() is None, "agent still running with the collector down")
    lines = server_lines()
    check(lines == total, f"--print-spans=json printed {total} spans (got {lines})")
    m = re.search(r"o11y_ebpf_otlp_spans_dropped_total\{reason=\"queue_full\"\} (\d+)",
                  urllib.request.urlopen(metrics_url(err)).read().decode())
    check(m is not None and int(m.group(1)) > 0, f"queue-full drops counted ({m and m.group(1)})")
    print(f"info: VmRSS KiB per round: {rss}", flush=True)
    check(max(rss) < 64 * 1024, f"VmRSS below 64 MiB (max {max(rss)} KiB)")
    check(rss[-1] - rss[1] < 4 * 1024, "VmRSS does not grow with the collector down")
    ticks0 = cpu_ticks(ag.pid)
    time.sleep(2)
    spent = cpu_ticks(ag.pid) - ticks0
    check(spent < 40, f"no busy retry loop: {spent} CPU ticks in 2 s idle with the collector down")
    requests(sport)  # spans queued when the stop comes: the flush must give up in time
    time.sleep(0.3)
    t0 = time.time()
    code = stop(ag, signal.SIGINT)
    took = time.time() - t0
    check(code == 0, f"agent exits 0 (got {code})")
    check(took < 3 + 3, f"exit within the export timeout ({took:.1f} s)")
    stop(srv)


def case_partial_success():
    print("== receiver answers partial_success (2 rejected)", flush=True)
    srv, sport = http_server()
    rx, rport, d = receiver("rx3", "--partial-reject", "2")
    ag, err, _ = agent(srv.pid, f"http://127.0.0.1:{rport}", "agent3",
                       {"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "Authorization=Bearer%20s3cret",
                        "OTEL_METRIC_EXPORT_INTERVAL": "600000"})
    for i in range(3):
        subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{sport}/"], check=True)
    wait_for(lambda: "partial success" in open(err).read(), 10, "partial success log")
    body = urllib.request.urlopen(metrics_url(err)).read().decode()
    stop(ag, signal.SIGINT)
    log = open(err).read()
    att = open(os.path.join(d, "attempts.log")).read()
    nreq = sum(1 for l in att.splitlines() if l.startswith("traces "))
    check(nreq >= 1 and
          log.count("traces: partial success: 2 span(s) rejected: test rejection") == nreq,
          f"partial_success logged once per response ({nreq}) with its rejected count")
    m = re.search(r'o11y_ebpf_otlp_spans_failed_total\{reason="rejected"\} (\d+)', body)
    check(m is not None and int(m.group(1)) >= 2, "rejected spans counted")
    check("s3cret" not in log, "headers never logged")
    check("auth=Bearer s3cret" in att, "per-signal header sent, percent-decoded")
    stop(rx)
    stop(srv)


def case_refused_protocol():
    print("== unsupported protocol", flush=True)
    env = dict(os.environ, OTEL_EXPORTER_OTLP_PROTOCOL="grpc")
    r = subprocess.run([AGENT, "--help"], env=env, capture_output=True, text=True)
    check(r.returncode == 2 and "http/protobuf" in r.stderr,
          f"OTEL_EXPORTER_OTLP_PROTOCOL=grpc exits 2 with a message (rc {r.returncode})")


def main():
    try:
        case_refused_protocol()
        case_retry_then_ok()
        case_dead_receiver()
        case_partial_success()
    except Exception as e:  # a broken step is a failure, never a skip
        check(False, f"exception: {e!r}")
    finally:
        for p in procs:
            stop(p, signal.SIGKILL if p.poll() is None else signal.SIGTERM, 5)
        if failures:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("FAILED: %d check(s)" % len(failures) if failures else "PASS", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
