#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Kubernetes metadata end to end. Real servers (python http.server on loopback ephemeral ports)
run in a cgroup v2 hierarchy shaped like k3s's (CG2/kubepods/burstable/pod<uid>/<container id>);
the agent lists and watches their pods from fake_kube_api.py over TLS (its own CA, a bearer
token), and the test checks service.name and the pod attributes on --print-spans=json lines,
on OTLP spans and metrics (tests/integration/otlp_receiver.py, decoded with protoc) and on
/metrics labels. Also: a slow first list does not hold spans back, a pod ADDED by the watch gets
its metadata, a DELETED one is forgotten.

Usage: k8s_metadata.py AGENT CG2_ROOT TMPDIR   (every cgroup created is listed in
TMPDIR/cgroups, innermost last, for the caller's cleanup)"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_kube_api import FakeKubeAPI, pod, replicaset  # noqa: E402
from testlib import wait_for, listen_port, parse_text, decode, attrs  # noqa: E402

AGENT, CG2, TMP = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NODE = "node-a"
EXE = os.path.basename(os.path.realpath(sys.executable))  # the servers' executable name
procs, failures = [], []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def mkcgroup(rel):
    """Creates CG2/rel level by level, recording each level this test created."""
    path = CG2
    for part in rel.split("/"):
        path = os.path.join(path, part)
        if not os.path.isdir(path):
            os.mkdir(path)
            with open(os.path.join(TMP, "cgroups"), "a") as f:
                f.write(path + "\n")
    return path


class Server:
    """python http.server started inside CG2/kubepods/burstable/pod<uid>/<cid>."""

    def __init__(self, name, env=None):
        self.uid = str(uuid.uuid4())
        self.cid = uuid.uuid4().hex + uuid.uuid4().hex
        self.cg = mkcgroup(f"kubepods/burstable/pod{self.uid}/{self.cid}")
        d = os.path.join(TMP, "www-" + name)
        os.makedirs(d)
        with open(os.path.join(d, "index.html"), "w") as f:
            f.write("hello\n")
        e = dict(os.environ)
        e.pop("OTEL_SERVICE_NAME", None)
        e.update(env or {})
        # join the container's cgroup, then become the server
        self.p = subprocess.Popen(
            ["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec "$2" -m http.server 0 '
             '--bind 127.0.0.1', "sh", self.cg, sys.executable],
            cwd=d, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(self.p)
        self.port = wait_for(lambda: listen_port(self.p.pid), 10, name + " http.server")
        with open(f"/proc/{self.p.pid}/cgroup") as f:
            cg = f.read()
        check(f"/kubepods/burstable/pod{self.uid}/{self.cid}" in cg,
              f"{name} runs in its pod cgroup: {cg.strip().splitlines()[-1]}")

    def get(self, n=1, path="/"):
        for _ in range(n):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5).read()
            except urllib.error.HTTPError:
                pass  # a 404 is a span too


def otlp_resources(d, signal_name):
    """service.name/pid -> resource attributes, from every body the receiver stored."""
    out = []
    for f in sorted(os.listdir(d)):
        if not f.startswith(signal_name + "-"):
            continue
        if signal_name == "traces":
            t = decode(os.path.join(d, f),
                       "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                       "otlp_collector_trace.proto")
            out += [(attrs(rs["resource"][0]), rs) for rs in t.get("resource_spans", [])]
        else:
            t = decode(os.path.join(d, f),
                       "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
                       "otlp_collector_metrics.proto")
            out += [(attrs(rm["resource"][0]), rm) for rm in t.get("resource_metrics", [])]
    return out


def tls_cert():
    cert, key = os.path.join(TMP, "api.crt"), os.path.join(TMP, "api.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=kube-apiserver", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def span_lines(path):
    out = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def spans_of(path, port):
    return [s for s in span_lines(path) if s["attributes"].get("server.port") == port]


def scrape(url):
    return urllib.request.urlopen(url, timeout=5).read().decode()


def main():
    # pods: A labelled (label wins), B unlabelled (its ReplicaSet's Deployment, from the API),
    # C labelled but OTEL_SERVICE_NAME in its environment (the environment wins)
    a = Server("a")
    b = Server("b")
    c = Server("c", {"OTEL_SERVICE_NAME": "pay-env"})
    d = Server("d")
    pods = [
        pod(a.uid, "shop", "web-7d4b9c6f5-x2x9k", NODE, [("web", a.cid)],
            {"app.kubernetes.io/name": "storefront", "pod-template-hash": "7d4b9c6f5"},
            ("ReplicaSet", "web-7d4b9c6f5")),
        # the hash label does not end the ReplicaSet's name: only the API can name "checkout"
        pod(b.uid, "shop", "checkout-5f6d7c8b9-abcde", NODE, [("app", b.cid)],
            {"pod-template-hash": "nomatch"}, ("ReplicaSet", "checkout-5f6d7c8b9")),
        pod(c.uid, "payments", "payd-8hx2p", NODE, [("payd", c.cid)],
            {"app.kubernetes.io/name": "pay-label"}, ("DaemonSet", "payd")),
        pod(str(uuid.uuid4()), "shop", "elsewhere-1", "node-b", [("x", "f" * 64)]),
    ]
    rss = {("shop", "web-7d4b9c6f5"): replicaset("shop", "web-7d4b9c6f5", "web"),
           ("shop", "checkout-5f6d7c8b9"): replicaset("shop", "checkout-5f6d7c8b9", "checkout")}
    token = "t0ken-" + uuid.uuid4().hex
    with open(os.path.join(TMP, "token"), "w") as f:
        f.write(token + "\n")
    cert, key = tls_cert()
    api = FakeKubeAPI(token, pods, rss, cert, key, list_delay=4.0)

    rxdir = os.path.join(TMP, "rx")
    os.makedirs(rxdir)
    pf = os.path.join(TMP, "rx.port")
    rx = subprocess.Popen([sys.executable, os.path.join(HERE, "otlp_receiver.py"), "--dir",
                           rxdir, "--port-file", pf])
    procs.append(rx)
    rport = int(wait_for(lambda: os.path.exists(pf) and open(pf).read(), 10, "receiver"))

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "O11Y_", "KUBERNETES_")) and k != "NODE_NAME"}
    env.update({"NODE_NAME": NODE, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{rport}",
                "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_METRIC_EXPORT_INTERVAL": "500"})
    out, err = os.path.join(TMP, "agent.out"), os.path.join(TMP, "agent.err")
    ag = subprocess.Popen(
        [AGENT, "--print-spans=json", "--web.listen-address=127.0.0.1:0",
         f"--kube-api-url=https://127.0.0.1:{api.port}",
         f"--kube-token-file={os.path.join(TMP, 'token')}", f"--kube-ca-file={cert}",
         "--kube-page-size=2", "--log-level=debug"] +
        [f"--pid={s.p.pid}" for s in (a, b, c, d)],
        env=env, stdout=open(out, "w"), stderr=open(err, "w"))
    procs.append(ag)
    try:
        wait_for(lambda: "running;" in open(err).read() or ag.poll() is not None, 30, "agent")
        if ag.poll() is not None:
            raise RuntimeError("agent exited: " + open(err).read())
        murl = re.search(r"serving /metrics on (http://\S+)", open(err).read()).group(1)

        # the first list answers after 4 s: spans must not wait for it
        t0 = time.time()
        a.get(1, "/early")
        early = wait_for(lambda: [s for s in spans_of(out, a.port)
                                  if s["attributes"]["url.path"] == "/early"], 3, "early span")
        check(api.lists_answered == 0 and time.time() - t0 < 3,
              f"a span came out {time.time() - t0:.1f} s after its request, before the slow "
              "list was answered")
        r = early[0]["resource"]
        check(r.get("k8s.pod.uid") == a.uid and r.get("container.id") == a.cid
              and "k8s.pod.name" not in r,
              "before the list: pod uid and container id from the cgroup, no pod name yet")

        wait_for(lambda: "o11y_ebpf_k8s_synced 1" in scrape(murl), 20, "k8s synced")
        wait_for(lambda: api.n_watchers() > 0, 10, "a watch")
        a.get(3)
        b.get(2)
        c.get(2)
        wait_for(lambda: len(spans_of(out, a.port)) >= 4 and len(spans_of(out, b.port)) >= 2
                 and len(spans_of(out, c.port)) >= 2, 10, "spans of a, b, c")

        # --print-spans=json
        ra = spans_of(out, a.port)[-1]["resource"]
        want_a = {"service.name": "storefront", "k8s.namespace.name": "shop",
                  "service.namespace": "shop", "k8s.pod.name": "web-7d4b9c6f5-x2x9k",
                  "k8s.pod.uid": a.uid, "k8s.container.name": "web", "container.id": a.cid,
                  "k8s.node.name": NODE, "k8s.replicaset.name": "web-7d4b9c6f5",
                  "k8s.deployment.name": "web"}
        check(all(ra.get(k) == v for k, v in want_a.items()),
              f"span of pod a carries its pod, label service name: {ra}")
        rb = spans_of(out, b.port)[-1]["resource"]
        check(rb.get("service.name") == "checkout" and rb.get("k8s.deployment.name") ==
              "checkout" and rb.get("k8s.pod.name") == "checkout-5f6d7c8b9-abcde",
              f"span of pod b: service.name from the Deployment the API names: {rb}")
        rc = spans_of(out, c.port)[-1]["resource"]
        check(rc.get("service.name") == "pay-env" and rc.get("k8s.daemonset.name") == "payd"
              and rc.get("k8s.namespace.name") == "payments",
              f"span of pod c: OTEL_SERVICE_NAME wins over the label: {rc}")

        # the API requests: token, node field selector, pages, ReplicaSet gets
        paths = [p for p, _ in api.requests]
        check(all(ok for _, ok in api.requests), "every API request carried the bearer token")
        check(any("fieldSelector=spec.nodeName%3Dnode-a" in p and "continue=" in p
                  for p in paths), "the pods were listed by node, in pages")
        check(any("watch=1" in p and "resourceVersion=1000" in p for p in paths),
              "the watch started from the list's resourceVersion")
        check("/apis/apps/v1/namespaces/shop/replicasets/checkout-5f6d7c8b9" in paths,
              "the ReplicaSet of pod b was read")

        # pod d is not listed: ids from its cgroup only; ADDED by the watch, then DELETED
        def last_d(path):
            d.get(1, path)
            return wait_for(lambda: [s for s in spans_of(out, d.port)
                                     if s["attributes"]["url.path"] == path], 5, path)[0]
        check("o11y_ebpf_k8s_pods 3" in scrape(murl), "3 pods of node-a cached (not node-b's)")
        r = last_d("/unlisted")["resource"]
        check(r.get("k8s.pod.uid") == d.uid and "k8s.pod.name" not in r
              and r.get("service.name") == EXE, f"unlisted pod d: cgroup ids only: {r}")
        pod_d = pod(d.uid, "late", "db-0", NODE, [("db", d.cid)], None, ("StatefulSet", "db"))
        api.push("ADDED", pod_d)
        wait_for(lambda: "o11y_ebpf_k8s_pods 4" in scrape(murl), 10, "the added pod cached")
        r = last_d("/added")["resource"]
        check(r.get("k8s.pod.name") == "db-0" and r.get("service.name") == "db"
              and r.get("k8s.statefulset.name") == "db" and r.get("k8s.container.name") == "db",
              f"pod d ADDED by the watch: its metadata, service.name from the StatefulSet: {r}")
        api.push("DELETED", pod_d)
        wait_for(lambda: "o11y_ebpf_k8s_pods 3" in scrape(murl), 10, "the deleted pod gone")
        r = last_d("/deleted")["resource"]
        check("k8s.pod.name" not in r and r.get("service.name") == EXE,
              f"pod d DELETED by the watch is forgotten: {r}")
        # pod a re-labelled by a MODIFIED event: new spans take the new service name
        pods[0]["metadata"]["labels"]["app.kubernetes.io/name"] = "storefront-v2"
        api.push("MODIFIED", pods[0])
        wait_for(lambda: "o11y_ebpf_k8s_watch_events_total 3" in scrape(murl), 10,
                 "3 watch events")
        a.get(1, "/after-modify")
        s = wait_for(lambda: [s for s in spans_of(out, a.port)
                              if s["attributes"]["url.path"] == "/after-modify"], 5, "span")
        check(s[0]["resource"]["service.name"] == "storefront-v2",
              "a MODIFIED label changes the service name of new spans")

        # /metrics: RED series labelled with namespace and pod
        m = scrape(murl)
        check(re.search(r'http_server_request_duration_seconds_count\{service_name="storefront",'
                        r'k8s_namespace_name="shop",k8s_pod_name="web-7d4b9c6f5-x2x9k",'
                        r'http_request_method="GET",http_route="/",'
                        r'http_response_status_code="200"\} 3\n', m) is not None,
              "RED series of pod a on /metrics: service, namespace and pod labels, count 3")
        check(re.search(r'_count\{service_name="checkout",k8s_namespace_name="shop",'
                        r'k8s_pod_name="checkout-5f6d7c8b9-abcde",[^}]*\} 2\n', m) is not None,
              "RED series of pod b on /metrics")
        check(re.search(r'_count\{service_name="pay-env",k8s_namespace_name="payments",'
                        r'k8s_pod_name="payd-8hx2p",[^}]*\} 2\n', m) is not None,
              "RED series of pod c on /metrics")
        mine = re.compile(r"^(# (HELP|TYPE) )?(http_server_request_duration_seconds|"
                          r"o11y_ebpf_k8s_)")
        sub = "".join(line + "\n" for line in m.splitlines() if mine.match(line))
        r = subprocess.run(["promtool", "check", "metrics"], input=sub, capture_output=True,
                           text=True)
        check(r.returncode == 0, "promtool check metrics on the RED and k8s families: "
              + (r.stdout + r.stderr).strip()[:300])

        # OTLP: spans and metrics resources
        time.sleep(1.5)
        ag.send_signal(signal.SIGTERM)
        ag.wait(20)
        tr = otlp_resources(rxdir, "traces")
        res_a = [at for at, _ in tr if at.get("service.name") == "storefront"]
        check(res_a and all(res_a[0].get(k) == v for k, v in want_a.items()),
              f"OTLP span resource of pod a: {res_a[:1]}")
        check(any(at.get("service.name") == "checkout" and at.get("k8s.deployment.name") ==
                  "checkout" for at, _ in tr), "OTLP span resource of pod b")
        mr = otlp_resources(rxdir, "metrics")
        met_a = [at for at, _ in mr if at.get("service.name") == "storefront"]
        check(met_a and met_a[-1].get("k8s.pod.name") == "web-7d4b9c6f5-x2x9k"
              and met_a[-1].get("k8s.namespace.name") == "shop"
              and met_a[-1].get("service.namespace") == "shop",
              f"OTLP metrics resource of pod a: {met_a[-1:] if met_a else None}")
        check(any(at.get("service.name") == "pay-env" and at.get("k8s.pod.name") == "payd-8hx2p"
                  for at, _ in mr), "OTLP metrics resource of pod c")
        check(ag.returncode == 0, f"agent exited 0 (got {ag.returncode})")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        api.close()
    if failures:
        print("agent log tail:\n" + "".join(open(err).readlines()[-30:]))
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a timeout or a crash is a failure, with what we know
        print("FAIL:", e)
        for p in procs:
            if p.poll() is None:
                p.kill()
        sys.exit(1)
