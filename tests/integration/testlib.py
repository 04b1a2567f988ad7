#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the integration drivers share: ports, waiting, and reading OTLP bodies back with
protoc against our proto/ (stdlib only)."""
import os
import re
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, host="127.0.0.1", timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port}")


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for " + what)


def listen_port(pid):
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if f"pid={pid}," in line:
            m = re.search(r"127\.0\.0\.1:(\d+)", line)
            if m:
                return int(m.group(1))
    return None


def parse_text(text):
    """protoc text format -> nested dict of lists (field -> [values or dicts])."""
    root, stack = {}, []
    cur = root
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.endswith("{"):
            child = {}
            cur.setdefault(line[:-1].strip(), []).append(child)
            stack.append(cur)
            cur = child
        elif line == "}":
            cur = stack.pop()
        else:
            k, v = line.split(":", 1)
            v = v.strip()
            if v.startswith('"'):
                v = v[1:-1]
            cur.setdefault(k, []).append(v)
    return root


def decode(path, msg, proto):
    r = subprocess.run(["protoc", "--decode=" + msg, "--proto_path=" + os.path.join(ROOT, "proto"),
                        proto], stdin=open(path, "rb"), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"protoc cannot decode {path}: {r.stderr}")
    return parse_text(r.stdout)


def attrs(node):
    out = {}
    for kv in node.get("attributes", []):
        val = kv["value"][0]
        for t in ("string_value", "int_value", "bool_value"):
            if t in val:
                out[kv["key"][0]] = val[t][0]
    return out
