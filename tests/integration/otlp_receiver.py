#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A minimal OTLP/HTTP receiver for tests: stores each accepted request body (gunzipped) as
DIR/<signal>-<n>.bin and logs every attempt to DIR/attempts.log.

  otlp_receiver.py --dir DIR --port-file FILE [--fail-first N] [--retry-after S]
                   [--partial-reject N]

Binds 127.0.0.1 on an ephemeral port written to FILE. --fail-first answers 503 to the first N
requests of each signal. --partial-reject answers 200 with partial_success.rejected_* = N.
"""
import argparse
import gzip
import http.server
import os
import sys
import threading


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def partial_success(rejected, msg):
    inner = b"\x08" + varint(rejected) + b"\x12" + varint(len(msg)) + msg
    return b"\x0a" + varint(len(inner)) + inner


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--retry-after", default=None)
    ap.add_argument("--partial-reject", type=int, default=0)
    ap.add_argument("--discard", action="store_true", help="count bodies, do not store them")
    args = ap.parse_args()
    lock = threading.Lock()
    seen = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            sig = self.path.rstrip("/").rsplit("/", 1)[-1]
            if self.headers.get("Content-Encoding", "") == "gzip":
                body = gzip.decompress(body)
            with lock:
                k = seen.get(sig, 0)
                seen[sig] = k + 1
                fail = k < args.fail_first
                with open(os.path.join(args.dir, "attempts.log"), "a") as f:
                    if args.discard:
                        f.write("")
                    f.write("%s %s %s ct=%s ce=%s auth=%s len=%d\n" % (
                        sig, self.path, 503 if fail else 200,
                        self.headers.get("Content-Type"),
                        self.headers.get("Content-Encoding"),
                        self.headers.get("Authorization"), len(body)))
                if not fail and not args.discard:
                    idx = len([x for x in os.listdir(args.dir) if x.startswith(sig + "-")])
                    with open(os.path.join(args.dir, "%s-%d.bin" % (sig, idx)), "wb") as f:
                        f.write(body)
            if fail:
                self.send_response(503)
                if args.retry_after is not None:
                    self.send_header("Retry-After", args.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            resp = b""
            if args.partial_reject:
                resp = partial_success(args.partial_reject, b"test rejection")
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(resp)))
            self.end_headers()
            self.wfile.write(resp)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
