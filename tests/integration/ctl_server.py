#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A test HTTP/1.x server whose every move is controlled by the request's query string:
  delay=MS      sleep before answering
  status=N      status code (101: switch protocols and close; 103: early hints first)
  body=N        body bytes
  w=MODE        how the response is written: write, writev, send, sendmsg, sendfile (head by
                send, body by sendfile)
Each connection reads with the next of: recv, read, readv, recvmsg (so all are covered).
Pipelined requests are answered in order. Listens on 127.0.0.1 and ::1; prints the ports."""
import os
import socket
import sys
import tempfile
import threading
import time
from urllib.parse import parse_qs, urlsplit

READERS = ["recv", "read", "readv", "recvmsg"]
counter = [0]
lock = threading.Lock()
bodyfile = tempfile.TemporaryFile()
bodyfile.write(b"x" * (1 << 20))
bodyfile.flush()


def read_some(conn, mode):
    if mode == "recv":
        return conn.recv(65536)
    if mode == "read":
        return os.read(conn.fileno(), 65536)
    if mode == "readv":
        b1, b2 = bytearray(32768), bytearray(32768)
        n = os.readv(conn.fileno(), [b1, b2])
        return bytes((b1 + b2)[:n])
    data, _, _, _ = conn.recvmsg(65536)
    return data


def send_all(conn, mode, head, body):
    fd = conn.fileno()
    if mode == "write":
        buf = head + body
        while buf:
            buf = buf[os.write(fd, buf):]
    elif mode == "writev":
        total = len(head) + len(body)
        n = os.writev(fd, [head, body])
        if n < total:
            conn.sendall((head + body)[n:])
    elif mode == "sendmsg":
        n = conn.sendmsg([head, body])
        if n < len(head) + len(body):
            conn.sendall((head + body)[n:])
    elif mode == "sendfile":
        conn.sendall(head)
        off = 0
        while off < len(body):
            off += os.sendfile(fd, bodyfile.fileno(), off, len(body) - off)
    else:
        conn.sendall(head + body)  # send(2) is sendto(2) on Linux


TIMINGS = os.environ.get("CTL_TIMINGS")  # file: "<path> <microseconds>" per answered request


def answer(conn, method, target, version, t0, t_first, nreads):
    q = parse_qs(urlsplit(target).query)
    delay = int(q.get("delay", ["0"])[0])
    status = int(q.get("status", ["200"])[0])
    nbody = int(q.get("body", ["2"])[0])
    mode = q.get("w", ["send"])[0]
    if delay:
        time.sleep(delay / 1000.0)
    if status == 101:
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
        return False
    if status == 103:
        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
        status = 200
    body = b"" if method == "HEAD" or status in (204, 304) else b"x" * nbody
    head = (f"{version} {status} Test\r\nContent-Length: {nbody if method == 'HEAD' else len(body)}\r\n"
            f"\r\n").encode()
    if status in (204, 304):
        head = f"{version} {status} Test\r\n\r\n".encode()
    send_all(conn, mode, head, body)
    if TIMINGS:  # "path us-from-the-completing-read us-from-the-first-read reads"
        now = time.monotonic()
        with lock, open(TIMINGS, "a") as f:
            f.write(f"{urlsplit(target).path} {(now - t0) * 1e6:.0f} {(now - t_first) * 1e6:.0f} "
                    f"{nreads}\n")
    return True


def handle(conn):
    with lock:
        mode = READERS[counter[0] % len(READERS)]
        counter[0] += 1
    buf = b""
    try:
        while True:
            # t_first: the return of the first read with bytes of this request; t0: of the last
            t0 = t_first = time.monotonic()
            nreads = 0
            while b"\r\n\r\n" not in buf:
                data = read_some(conn, mode)
                t0 = time.monotonic()
                if not data:
                    return
                if not nreads:
                    t_first = t0
                nreads += 1
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            try:
                method, target, version = lines[0].split(" ")
            except ValueError:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
            clen = int(hdrs.get("content-length", "0"))
            while len(buf) < clen:
                data = read_some(conn, mode)
                if not data:
                    return
                buf += data
            buf = buf[clen:]
            if not answer(conn, method, target, version, t0, t_first, nreads):
                return
            if version == "HTTP/1.0" or hdrs.get("connection", "").lower() == "close":
                return
    except OSError:
        pass
    finally:
        conn.close()


def serve(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def main():
    s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s4.bind(("127.0.0.1", 0))
    s4.listen(128)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s6.bind(("::1", s4.getsockname()[1]))
    s6.listen(128)
    print(s4.getsockname()[1], flush=True)
    threading.Thread(target=serve, args=(s6,), daemon=True).start()
    serve(s4)


if __name__ == "__main__":
    main()
