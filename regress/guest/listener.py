#!/usr/bin/env python3
#
# The broker's side of the handshake, just enough to test a guest: greet,
# record each hello line, grant it, and acknowledge the frames that
# follow, recording each of them too.  Listens on 127.0.0.1 only.
#
# usage: listener.py DIR
#   DIR/port     the port, written once listening
#   DIR/hellos   one hello line per connection, as received
#   DIR/frames   one frame payload per line
#   DIR/stop     the listener exits once this file exists

import json
import os
import socket
import struct
import sys
import threading
import time

GREETING = b"castra-broker 0.1 ready\n"


def record(path, line, lock):
    with lock:
        with open(path, "ab") as f:
            f.write(line + b"\n")


def read_line(conn, limit=512):
    buf = b""
    while not buf.endswith(b"\n"):
        b = conn.recv(1)
        if not b or len(buf) >= limit:
            return None
        buf += b
    return buf[:-1]


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        b = conn.recv(n - len(buf))
        if not b:
            return None
        buf += b
    return buf


def serve(conn, n, d, lock):
    try:
        conn.settimeout(60)
        conn.sendall(GREETING)
        line = read_line(conn)
        if line is None:
            return
        record(os.path.join(d, "hellos"), line, lock)
        conn.sendall(b"ok session=test-%d\n" % n)
        while True:
            hdr = read_exact(conn, 4)
            if hdr is None:
                return
            (size,) = struct.unpack(">I", hdr)
            if size == 0 or size > 65536:
                return
            body = read_exact(conn, size)
            if body is None:
                return
            record(os.path.join(d, "frames"), body, lock)
            kind = json.loads(body).get("type", "")
            ack = json.dumps({"ack": kind, "status": "ok", "type": "ack"},
                             sort_keys=True, separators=(",", ":"))
            conn.sendall(struct.pack(">I", len(ack)) + ack.encode())
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def main():
    d = sys.argv[1]
    lock = threading.Lock()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    s.settimeout(0.2)
    tmp = os.path.join(d, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(tmp, os.path.join(d, "port"))
    n = 0
    # Bounded, so that a test that dies never leaves a listener behind.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(d, "stop")):
            break
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        n += 1
        threading.Thread(target=serve, args=(conn, n, d, lock),
                         daemon=True).start()
    s.close()


if __name__ == "__main__":
    main()
