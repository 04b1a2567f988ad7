#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""deploy/backend/ against a real Prometheus (Debian's 2.42) fed by the agent on loopback.

1. promtool checks the shipped Prometheus configurations and alert rules.
2. Servers run with traffic: shop-api (python: 10 % of requests answer 500, 10 % take 300 ms),
   static-files (python: files read cold after the page cache is dropped), nginx (a short flood
   while the agent is stopped, so its ring buffer overflows and it loses events for real).
3. The agent exports to a dead OTLP endpoint; a 16 MiB tmpfs is filled to 97 %; a second agent
   target on a closed loopback port is down.
4. Prometheus scrapes the agent with the shipped o11y-ebpf job (its targets file rewritten to the
   loopback addresses, intervals cut to 1 s) and evaluates the shipped alert rules (`for:` cut to
   a few seconds, expressions unchanged).
5. Every alert must fire, on the series the test drove; then every PromQL expression of the
   dashboard (Grafana variables replaced by .*) and of the alert rules must evaluate through
   /api/v1/query without error and return at least one series.
The expressions over the collector's otlp_ series are checked against the agent's series of the
same shape (the collector does not run here).
Usage: backend_prometheus.py AGENT TMPDIR (TMPDIR on a disk file system; the caller removes it);
DEBUG_QUERIES='expr;expr' prints the results of these queries at the end."""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import free_port  # noqa: E402

AGENT = os.path.abspath(sys.argv[1])
TMP = os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BACKEND = os.path.join(ROOT, "deploy", "backend", "config")
K8S_PROMETHEUS = os.path.join(ROOT, "deploy", "backend", "kubernetes", "prometheus.yml")
DASHBOARD = os.path.join(BACKEND, "grafana", "dashboards", "o11y-ebpf.json")
TEST_FOR = "3s"          # the rules' `for:` in the test
DEADLINE = time.time() + 100  # the whole run, traffic included
procs = []
failures = []
stop_traffic = threading.Event()


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def start(args, name, **kw):
    log = open(os.path.join(TMP, name + ".log"), "wb")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kw)
    p.name = name
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        os.kill(p.pid, signal.SIGCONT)
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def wait_http(url, what, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            return http_get(url, 2)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def tail(name, n=20):
    try:
        with open(os.path.join(TMP, name + ".log"), errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def cleanup():
    stop_traffic.set()
    for p in reversed(procs):
        stop(p)
    if os.path.ismount(os.path.join(TMP, "fill")):
        subprocess.run(["umount", os.path.join(TMP, "fill")])


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

# ---- 1. promtool on the shipped files -------------------------------------------------------

def promtool(*args):
    r = subprocess.run(["promtool", *args], capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


rc, out = promtool("check", "config", os.path.join(BACKEND, "prometheus.yml"))
check(rc == 0, "promtool check config deploy/backend/config/prometheus.yml" + ("" if rc == 0 else ":\n" + out))
rc, out = promtool("check", "rules", os.path.join(BACKEND, "alerts.yml"))
check(rc == 0, "promtool check rules deploy/backend/config/alerts.yml" + ("" if rc == 0 else ":\n" + out))
# Debian builds Prometheus without Kubernetes discovery: check the Kubernetes configuration with
# its kubernetes_sd_configs blocks taken out, and that its agent job scrapes like the other one.
with open(os.path.join(BACKEND, "prometheus.yml")) as f:
    shipped = yaml.safe_load(f)
with open(K8S_PROMETHEUS) as f:
    k8s = yaml.safe_load(f)
k8s_sd = [j for j in k8s["scrape_configs"] if j.pop("kubernetes_sd_configs", None) is not None]
os.makedirs(os.path.join(TMP, "k8s"))
shutil.copy(os.path.join(BACKEND, "alerts.yml"), os.path.join(TMP, "k8s", "alerts.yml"))
with open(os.path.join(TMP, "k8s", "prometheus.yml"), "w") as f:
    yaml.safe_dump(k8s, f)
rc, out = promtool("check", "config", os.path.join(TMP, "k8s", "prometheus.yml"))
check(rc == 0 and len(k8s_sd) == 1,
      "promtool check config deploy/backend/kubernetes/prometheus.yml (kubernetes_sd_configs of "
      "job %s left out)" % [j["job_name"] for j in k8s_sd] + ("" if rc == 0 else ":\n" + out))
agent_job = next(j for j in shipped["scrape_configs"] if j["job_name"] == "o11y-ebpf")
for key in ("scrape_interval", "scrape_timeout", "metrics_path"):
    check(k8s_sd and k8s_sd[0].get(key) == agent_job.get(key),
          "kubernetes agent job has the same %s as the bare-host job (%s)" % (key, agent_job.get(key)))

# ---- 2. servers -----------------------------------------------------------------------------
P_AGENT, P_SHOP, P_FILES, P_NGINX, P_PROM, P_DEAD_HOST, P_DEAD_OTLP = (free_port() for _ in range(7))
FILES_DIR = os.path.join(TMP, "files")
os.makedirs(FILES_DIR)
NFILES, FILE_SIZE = 12, 2 << 20
for i in range(NFILES):
    with open(os.path.join(FILES_DIR, "f%d.bin" % i), "wb") as f:
        f.write(os.urandom(FILE_SIZE))
        os.fsync(f.fileno())  # dirty pages would survive drop_caches
app = os.path.join(HERE, "backend_app.py")
start(["python3", app, str(P_SHOP), FILES_DIR], "shop-api", env=dict(os.environ, OTEL_SERVICE_NAME="shop-api"))
start(["python3", app, str(P_FILES), FILES_DIR], "static-files",
      env=dict(os.environ, OTEL_SERVICE_NAME="static-files"))
with open(os.path.join(TMP, "nginx.conf"), "w") as f:
    f.write(f"""worker_processes 1;
daemon off;
pid {TMP}/nginx.pid;
error_log {TMP}/nginx.err warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {TMP}/nginx-body;
    proxy_temp_path {TMP}/nginx-proxy;
    fastcgi_temp_path {TMP}/nginx-fastcgi;
    uwsgi_temp_path {TMP}/nginx-uwsgi;
    scgi_temp_path {TMP}/nginx-scgi;
    server {{
        listen 127.0.0.1:{P_NGINX};
        location / {{ return 200 "ok\\n"; }}
    }}
}}
""")
start(["nginx", "-c", os.path.join(TMP, "nginx.conf")], "nginx")

# a file system that is nearly full
FILL = os.path.join(TMP, "fill")
os.makedirs(FILL)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "o11y-backend-test", FILL], check=True)
with open(os.path.join(FILL, "ballast"), "wb") as f:
    f.write(b"\0" * (15 << 20) + b"\0" * (512 << 10))

# ---- 3. the agent ---------------------------------------------------------------------------
agent = start([AGENT, "--web.listen-address=127.0.0.1:%d" % P_AGENT, "--log-level=warn",
               "--port=%d" % P_SHOP, "--port=%d" % P_FILES, "--port=%d" % P_NGINX,
               "--otlp-endpoint=http://127.0.0.1:%d" % P_DEAD_OTLP,
               "--bsp-schedule-delay-ms=200", "--bsp-export-timeout-ms=1000",
               "--otlp-timeout-ms=500", "--metric-export-interval-ms=1000"], "agent")
AGENT_URL = "http://127.0.0.1:%d/metrics" % P_AGENT
wait_http(AGENT_URL, "the agent's /metrics")
for port in (P_SHOP, P_FILES, P_NGINX):
    wait_http("http://127.0.0.1:%d/api/items/0" % port, "server on port %d" % port)

# ---- 4. Prometheus with the shipped job and rules -------------------------------------------
PROM_DIR = os.path.join(TMP, "prometheus")
os.makedirs(os.path.join(PROM_DIR, "targets"))
cfg = yaml.safe_load(open(os.path.join(BACKEND, "prometheus.yml")))
cfg["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
job = next(j for j in cfg["scrape_configs"] if j["job_name"] == "o11y-ebpf")
job.update(scrape_interval="1s", scrape_timeout="1s")
dropped = [j["job_name"] for j in cfg["scrape_configs"] if j is not job]
cfg["scrape_configs"] = [job]
print("info: Prometheus runs the shipped o11y-ebpf job (1 s); left out, as their services do not "
      "run here: %s" % ", ".join(dropped), flush=True)
with open(os.path.join(PROM_DIR, "prometheus.yml"), "w") as f:
    yaml.safe_dump(cfg, f, sort_keys=False)
# the shipped targets file, pointed at the agent and at a host that is down
targets = yaml.safe_load(open(os.path.join(BACKEND, "targets", "o11y-ebpf-hosts.yml")))
targets[0]["targets"] = ["127.0.0.1:%d" % P_AGENT, "127.0.0.1:%d" % P_DEAD_HOST]
with open(os.path.join(PROM_DIR, "targets", "o11y-ebpf-hosts.yml"), "w") as f:
    yaml.safe_dump(targets, f)
rules = yaml.safe_load(open(os.path.join(BACKEND, "alerts.yml")))
alert_rules = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
for r in alert_rules:
    r["for"] = TEST_FOR
with open(os.path.join(PROM_DIR, "alerts.yml"), "w") as f:
    yaml.safe_dump(rules, f, sort_keys=False)
start(["prometheus", "--config.file=" + os.path.join(PROM_DIR, "prometheus.yml"),
       "--storage.tsdb.path=" + os.path.join(PROM_DIR, "data"),
       "--web.listen-address=127.0.0.1:%d" % P_PROM, "--enable-feature=exemplar-storage",
       "--log.level=warn"], "prometheus")
PROM = "http://127.0.0.1:%d" % P_PROM
wait_http(PROM + "/-/ready", "Prometheus ready", 30)


def prom_api(path, **params):
    data = urllib.parse.urlencode(params).encode() if params else None  # None: GET
    with urllib.request.urlopen(PROM + path, data=data, timeout=10) as r:
        return json.load(r)


def query(expr):
    """-> (error or None, number of series)"""
    try:
        j = prom_api("/api/v1/query", query=expr)
    except urllib.error.HTTPError as e:
        try:
            return json.load(e).get("error", str(e)), 0
        except ValueError:
            return str(e), 0
    except OSError as e:
        return str(e), 0
    if j.get("status") != "success":
        return j.get("error", "status " + str(j.get("status"))), 0
    res = j["data"]["result"]
    return None, (len(res) if isinstance(res, list) else 1)


# ---- 5. traffic -----------------------------------------------------------------------------
counts = {"shop": 0, "files": 0, "cold rounds": 0}


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            r.read()
    except urllib.error.HTTPError as e:
        e.read()
    except OSError:
        pass


def shop_traffic(k):
    n = 0
    while not stop_traffic.is_set():
        # per 10 requests: 8 fast, 1 answered 500, 1 slow (300 ms)
        path = {8: "/api/checkout", 9: "/api/report"}.get(n % 10, "/api/items/%d" % (n % 50))
        get(P_SHOP, path)
        counts["shop"] += 1
        n += 1
        time.sleep(0.01)


def files_traffic():
    while not stop_traffic.is_set():
        # cold reads: drop the page cache (clean pages only, the files are on disk), read them all
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        counts["cold rounds"] += 1
        for i in range(NFILES):
            if stop_traffic.is_set():
                break
            get(P_FILES, "/files/f%d.bin" % i)
            counts["files"] += 1
        stop_traffic.wait(1.0)


threads = [threading.Thread(target=shop_traffic, args=(k,), daemon=True) for k in range(3)]
threads.append(threading.Thread(target=files_traffic, daemon=True))
for t in threads:
    t.start()


def agent_metric(name, labels=""):
    total = 0.0
    try:
        text = http_get(AGENT_URL).decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + "{" if labels else name) and labels in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


# counters need a sample from before what the test drives
end = time.time() + 20
while time.time() < end and query('count_over_time(up{instance="127.0.0.1:%d"}[1m]) >= 3' % P_AGENT)[1] == 0:
    time.sleep(0.5)
check(query('up{instance="127.0.0.1:%d"} == 1' % P_AGENT)[1] == 1, "Prometheus scrapes the agent")

# the agent loses events: stopped (as if starved of CPU) while nginx serves a flood, its 16 MiB
# ring buffer fills and the kernel side counts what it could not queue
lost = 0.0
for attempt in range(3):
    os.kill(agent.pid, signal.SIGSTOP)
    try:
        subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % (2 + attempt), "http://127.0.0.1:%d/" % P_NGINX],
                       capture_output=True, timeout=30)
    finally:
        os.kill(agent.pid, signal.SIGCONT)
    time.sleep(1)
    lost = agent_metric("o11y_ebpf_http_kernel_errors_total", 'reason="ringbuf_full"') or 0.0
    if lost > 0:
        break
check(lost > 0, "flood while the agent was stopped: %d events lost (ringbuf_full)" % lost)

# ---- 6. the alerts fire on what was driven --------------------------------------------------
expected = {
    "HTTPErrorRateHigh": {"service_name": "shop-api"},
    "HTTPLatencyP95High": {"service_name": "shop-api"},
    "PageCacheHitRatioLow": {"instance": "127.0.0.1:%d" % P_AGENT},
    "NodeDown": {"instance": "127.0.0.1:%d" % P_DEAD_HOST},
    "FilesystemFilling": {"mountpoint": FILL},
    "AgentLosingEvents": {"instance": "127.0.0.1:%d" % P_AGENT},
    "OTLPExportFailing": {"instance": "127.0.0.1:%d" % P_AGENT},
}
check(sorted(expected) == sorted(r["alert"] for r in alert_rules),
      "the test drives every shipped alert: %s" % ", ".join(sorted(r["alert"] for r in alert_rules)))


def firing():
    try:
        alerts = prom_api("/api/v1/alerts")["data"]["alerts"]
    except OSError:
        return [], set()
    got = set()
    for name, want in expected.items():
        for a in alerts:
            if a["labels"].get("alertname") == name and a["state"] == "firing" and \
                    all(a["labels"].get(k) == v for k, v in want.items()):
                got.add(name)
    return alerts, got


t0 = time.time()
alerts, got = firing()
while got != set(expected) and time.time() < DEADLINE - 25:
    time.sleep(1)
    alerts, got = firing()
print("info: %d s after the flood; traffic so far: %s" % (time.time() - t0, counts), flush=True)
for name, want in expected.items():
    check(name in got, "alert %s fires for %s" % (name, want))
# the healthy service must not be reported failing
check(not any(a["labels"].get("alertname") == "HTTPErrorRateHigh" and
              a["labels"].get("service_name") == "static-files" for a in alerts),
      "HTTPErrorRateHigh does not fire for static-files (no 5xx)")
bad_tpl = ["%s %s: %s" % (a["labels"].get("alertname"), k, v) for a in alerts
           for k, v in a.get("annotations", {}).items() if "error" in v and "expanding" in v]
check(not bad_tpl, "alert annotations render" + "".join("\n    " + b for b in bad_tpl))
for a in alerts:
    if a["state"] == "firing":
        print("info: firing %s value %.4g: %s" % (a["labels"]["alertname"], float(a["value"]),
                                                  a["annotations"].get("summary")), flush=True)
if got != set(expected):
    print("alerts seen:\n" + "\n".join("  %s %s %s" % (a["labels"].get("alertname"), a["state"],
          {k: v for k, v in a["labels"].items() if k != "alertname"}) for a in alerts))

# ---- 7. every expression returns series -----------------------------------------------------
GRAFANA_VARS = {"$__rate_interval": "1m", "$__range": "5m", "$__interval": "15s"}


def substitute(expr):
    for k, v in GRAFANA_VARS.items():
        expr = expr.replace(k, v)
    # dashboard variables ($service, ${instance}, ...) as the "All" choice
    return re.sub(r"\$\{?[A-Za-z_]\w*(?::\w+)?\}?", ".*", expr)


def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))


dash = json.load(open(DASHBOARD))
exprs = []  # (where, expr)
for p in walk(dash["panels"]):
    for t in p.get("targets", []):
        if t.get("expr"):
            exprs.append(("dashboard %r %s" % (p["title"], t["refId"]), t["expr"]))
for r in alert_rules:
    exprs.append(("alert %s" % r["alert"], r["expr"]))
# Tempo's trace-to-metrics links: Grafana puts the span's tags where $__tags is ($$ is the
# provisioning file's escape of $)
ds = yaml.safe_load(open(os.path.join(BACKEND, "grafana", "provisioning", "datasources", "o11y-ebpf.yaml")))
n_links = 0
for d in ds["datasources"]:
    for lq in d.get("jsonData", {}).get("tracesToMetrics", {}).get("queries", []):
        exprs.append(("Tempo trace-to-metrics link %r" % lq["name"],
                      lq["query"].replace("$$__tags", 'service_name="shop-api"')))
        n_links += 1

collector_fed = []
bad = []
for where, expr in exprs:
    e = substitute(expr)
    if "$" in e:
        bad.append("%s: unsubstituted variable in %s" % (where, e))
        continue
    # series the collector exports (otlp_ prefix): the collector does not run here, so the
    # expression is checked against the agent's own series of the same shape
    if "otlp_http_server_request_duration_seconds" in e:
        e = e.replace("otlp_http_server_request_duration_seconds", "http_server_request_duration_seconds")
        collector_fed.append(where)
    err, n = query(e)
    if err or n == 0:
        bad.append("%s: %s\n      %s" % (where, err or "no series", " ".join(e.split())))
for v in dash["templating"]["list"]:
    m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", v["definition"])
    if not check(m is not None, "variable $%s is a label_values() query" % v["name"]):
        continue
    try:
        j = prom_api("/api/v1/series", **{"match[]": substitute(m.group(1))})
        n = sum(1 for s in j["data"] if m.group(2) in s)
    except OSError as e:
        n = 0
    if n == 0:
        bad.append("variable $%s: no series with label %s match %s" % (v["name"], m.group(2), m.group(1)))
print("info: %d expressions evaluated (%d dashboard targets, %d alert rules, %d Tempo links, "
      "%d variables); checked against the agent's equivalent series instead of the collector's: %s"
      % (len(exprs) + len(dash["templating"]["list"]), len(exprs) - len(alert_rules) - n_links,
         len(alert_rules), n_links, len(dash["templating"]["list"]),
         "; ".join(collector_fed) or "none"), flush=True)
check(not bad, "every dashboard and alert expression returns series" +
      ("" if not bad else "; these do not:\n    " + "\n    ".join(bad)))

if os.environ.get("DEBUG_QUERIES"):
    for e in os.environ["DEBUG_QUERIES"].split(";"):
        print("debug:", e, json.dumps(prom_api("/api/v1/query", query=e)["data"]["result"])[:3000])

# ---- cleanup (the caller's trap removes the rest) ---------------------------------------------
stop_traffic.set()
for t in threads:
    t.join(10)
stop(agent)
check(agent.returncode == 0, "agent exited cleanly (status %s)" % agent.returncode)
cleanup()
if failures:
    for name in ("agent", "prometheus"):
        print("---- %s log (tail)\n%s" % (name, tail(name)))
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("all passed")
