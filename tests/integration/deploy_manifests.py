#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""deploy/kubernetes parses as YAML (PyYAML) and carries the settings the README promises; the
agent accepts the DaemonSet's arguments. Usage: deploy_manifests.py AGENT"""
import os
import subprocess
import sys

import yaml

AGENT = sys.argv[1]
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "kubernetes")
failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


kust = yaml.safe_load(open(os.path.join(D, "kustomization.yaml")))
docs = []
for r in kust["resources"]:
    docs += [d for d in yaml.safe_load_all(open(os.path.join(D, r))) if d]
check(all("apiVersion" in d and "kind" in d and d.get("metadata", {}).get("name") for d in docs),
      f"{len(docs)} objects from {len(kust['resources'])} files, each with apiVersion/kind/name")
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
ns = kust.get("namespace")
check(("Namespace", ns) in by, f"namespace {ns} is created")
check(("ServiceAccount", "o11y-ebpf") in by, "ServiceAccount")

role = by[("ClusterRole", "o11y-ebpf")]
rules = {(g, r): set(rule["verbs"]) for rule in role["rules"]
         for g in rule["apiGroups"] for r in rule["resources"]}
check(set(rules) == {("", "pods"), ("apps", "replicasets")}, f"ClusterRole: pods and "
      f"replicasets only: {sorted(rules)}")
check(rules.get(("", "pods")) == {"get", "list", "watch"}, "pods: get, list, watch")
check(rules.get(("apps", "replicasets"), {"x"}) <= {"get", "list", "watch"},
      "replicasets: read-only verbs")
bind = by[("ClusterRoleBinding", "o11y-ebpf")]
check(bind["roleRef"]["name"] == "o11y-ebpf" and
      bind["subjects"][0] == {"kind": "ServiceAccount", "name": "o11y-ebpf", "namespace": ns},
      "ClusterRoleBinding binds the role to the ServiceAccount")

ds = by[("DaemonSet", "o11y-ebpf")]
spec = ds["spec"]["template"]["spec"]
check(spec.get("hostPID") is True and spec.get("hostNetwork") is True, "hostPID and hostNetwork")
check(spec.get("serviceAccountName") == "o11y-ebpf", "runs as the ServiceAccount")
check({"operator": "Exists"} in spec.get("tolerations", []), "tolerates every taint")
c = spec["containers"][0]
env = {e["name"]: e for e in c.get("env", [])}
check(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") ==
      "spec.nodeName", "NODE_NAME from the downward API")
cms = [e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e]
check(len(cms) == 1 and ("ConfigMap", cms[0]) in by and "OTEL_EXPORTER_OTLP_ENDPOINT" in
      by[("ConfigMap", cms[0])]["data"], "OTLP endpoint from a ConfigMap of the kustomization")
sc = c["securityContext"]
caps = set(sc.get("capabilities", {}).get("add", []))
check(sc.get("capabilities", {}).get("drop") == ["ALL"] and
      {"BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH", "SYS_RESOURCE"} == caps
      and sc.get("privileged") is False, f"capabilities: drop ALL, add {sorted(caps)}")
vols = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
mounts = {m["name"]: m for m in c["volumeMounts"]}
want = {"/sys/kernel/tracing": "/sys/kernel/tracing", "/proc": None, "/sys": None, "/": None}
for host, where in want.items():
    names = [n for n, p in vols.items() if p == host]
    ok = names and mounts.get(names[0], {}).get("readOnly") is True
    if ok and where:
        ok = mounts[names[0]]["mountPath"] == where
    check(bool(ok), f"host path {host} mounted read-only")
mount_of = {vols[n]: m["mountPath"] for n, m in mounts.items() if n in vols}
args = c.get("args", [])
check(f"--path.rootfs={mount_of['/']}" in args and f"--path.procfs={mount_of['/proc']}" in args
      and f"--path.sysfs={mount_of['/sys']}" in args,
      "--path.rootfs/procfs/sysfs point at the host mounts")
port = [p for p in c["ports"] if p["name"] == "metrics"][0]
check(port["containerPort"] == 9100 and port.get("hostPort") == 9100, "metrics port 9100")
for probe in ("livenessProbe", "readinessProbe"):
    p = c.get(probe, {}).get("httpGet", {})
    check(p.get("port") in ("metrics", 9100), f"{probe} on the metrics port")
res = c.get("resources", {})
check(all(k in res.get(w, {}) for w in ("requests", "limits") for k in ("cpu", "memory")),
      "cpu and memory requests and limits")
r = subprocess.run([AGENT, *args, "--version"], capture_output=True, text=True)
check(r.returncode == 0, "the agent accepts the DaemonSet's arguments " + r.stderr.strip())
sys.exit(1 if failures else 0)
