#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A small fake Kubernetes API server for tests (stdlib only), run in the test's own process.

Answers what the agent asks, in the API's JSON shapes:
  GET /api/v1/pods?fieldSelector=spec.nodeName=N[&limit=L&continue=C]   PodList, paged
  GET /api/v1/pods?...&watch=1&resourceVersion=RV                      chunked watch stream
  GET /apis/apps/v1/namespaces/NS/replicasets/NAME                      ReplicaSet or 404
Every request must carry "Authorization: Bearer <token>" (401 otherwise) and is logged in
.requests. Pods are dicts in the Pod shape; push() sends a watch event to the open watches.
"""
import json
import queue
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeKubeAPI:
    def __init__(self, token, pods, replicasets, certfile=None, keyfile=None, list_delay=0.0):
        self.token = token
        self.pods = list(pods)
        self.replicasets = dict(replicasets)  # (ns, name) -> ReplicaSet dict
        self.list_delay = list_delay  # seconds the first list waits: a slow API server
        self.rv = 1000
        self.requests = []  # (path, authorized)
        self.lists_answered = 0
        self.watchers = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send_json(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                ok = self.headers.get("Authorization", "") == "Bearer " + api.token
                with api.lock:
                    api.requests.append((self.path, ok))
                if not ok:
                    return self.send_json(401, {"kind": "Status", "code": 401,
                                                "reason": "Unauthorized"})
                u = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                parts = u.path.strip("/").split("/")
                if u.path == "/api/v1/pods":
                    if q.get("watch") in ("1", "true"):
                        return self.watch(q)
                    return self.list(q)
                if (len(parts) == 7 and parts[:3] == ["apis", "apps", "v1"]
                        and parts[3] == "namespaces" and parts[5] == "replicasets"):
                    rs = api.replicasets.get((parts[4], parts[6]))
                    if rs:
                        return self.send_json(200, rs)
                return self.send_json(404, {"kind": "Status", "code": 404,
                                            "reason": "NotFound"})

            def list(self, q):
                node = q.get("fieldSelector", "").partition("spec.nodeName=")[2]
                if api.list_delay and api.lists_answered == 0:
                    time.sleep(api.list_delay)
                with api.lock:
                    pods = [p for p in api.pods if p["spec"].get("nodeName") == node]
                    rv = str(api.rv)
                limit = int(q.get("limit", "0") or 0)
                start = int(q.get("continue", "0") or 0)
                end = start + limit if limit else len(pods)
                meta = {"resourceVersion": rv}
                if end < len(pods):
                    meta["continue"] = str(end)
                with api.lock:
                    api.lists_answered += 1
                self.send_json(200, {"kind": "PodList", "apiVersion": "v1", "metadata": meta,
                                     "items": pods[start:end]})

            def chunk(self, data):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def watch(self, q):
                timeout = min(float(q.get("timeoutSeconds", "60")), 60)
                events = queue.Queue()
                with api.lock:
                    api.watchers.append(events)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                end = time.time() + timeout
                try:
                    while time.time() < end:
                        try:
                            ev = events.get(timeout=0.2)
                        except queue.Empty:
                            continue
                        self.chunk(json.dumps(ev).encode() + b"\n")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with api.lock:
                        api.watchers.remove(events)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def push(self, type_, pod):
        """Changes the pod set and sends the event to every open watch."""
        with self.lock:
            self.rv += 1
            pod = json.loads(json.dumps(pod))
            pod["metadata"]["resourceVersion"] = str(self.rv)
            uid = pod["metadata"]["uid"]
            self.pods = [p for p in self.pods if p["metadata"]["uid"] != uid]
            if type_ != "DELETED":
                self.pods.append(pod)
            for w in self.watchers:
                w.put({"type": type_, "object": pod})
            return len(self.watchers)

    def n_watchers(self):
        with self.lock:
            return len(self.watchers)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def pod(uid, ns, name, node, containers, labels=None, owner=None):
    """A Pod object; containers: [(name, container id)]; owner: (kind, name)."""
    meta = {"name": name, "namespace": ns, "uid": uid, "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                    "uid": "owner-" + owner[1], "controller": True}]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta,
            "spec": {"nodeName": node, "containers": [{"name": c} for c, _ in containers]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": c, "ready": True, "containerID": "containerd://" + cid}
                for c, cid in containers]}}


def replicaset(ns, name, deployment):
    return {"kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": {"name": name, "namespace": ns, "uid": "rs-" + name,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": deployment, "uid": "d-" + deployment,
                                              "controller": True}]}}
