#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A small HTTP service for test_backend_prometheus.sh, traced by the agent like any server.
Routes: /api/items/<n> answers at once, /api/checkout answers 500, /api/report takes 300 ms,
/files/<name> sends a file of DIR (read with plain read() calls, so cold files miss the page
cache). Usage: backend_app.py PORT DIR (the service name comes from OTEL_SERVICE_NAME)."""
import http.server
import os
import sys
import time

PORT, DIR = int(sys.argv[1]), sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/api/items/"):
            self.answer(200, b'{"item": "ok"}\n')
        elif self.path == "/api/checkout":
            self.answer(500, b'{"error": "payment backend unavailable"}\n')
        elif self.path == "/api/report":
            time.sleep(0.3)
            self.answer(200, b'{"report": "done"}\n')
        elif self.path.startswith("/files/"):
            name = os.path.basename(self.path)
            try:
                with open(os.path.join(DIR, name), "rb", buffering=0) as f:
                    chunks = []
                    while True:
                        c = f.read(65536)
                        if not c:
                            break
                        chunks.append(c)
                self.answer(200, b"".join(chunks))
            except OSError:
                self.answer(404, b"no such file\n")
        else:
            self.answer(404, b"not found\n")

    def log_message(self, fmt, *args):
        pass


http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
