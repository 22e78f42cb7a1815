#!/usr/bin/env python3
#
# The broker's side of the handshake, just enough to test a guest: greet,
# record each hello line, grant it, and acknowledge the frames that
# follow, recording each of them too.  Listens on 127.0.0.1 only.
#
# usage: listener.py DIR [PORT [MODE]]
#   MODE grant   (the default) grants every hello
#        deny    answers "denied reason=unauthorized" and hangs up
#        foreign greets like some other server and records what comes
#   DIR/port     the port, written once listening
#   DIR/conns    one line per connection accepted
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


def serve(conn, n, d, mode, lock):
    try:
        record(os.path.join(d, "conns"), b"%d" % n, lock)
        conn.settimeout(60)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n" if mode == "foreign"
                     else GREETING)
        line = read_line(conn)
        if line is None:
            return
        record(os.path.join(d, "hellos"), line, lock)
        if mode != "grant":
            conn.sendall(b"denied reason=unauthorized\n")
            return
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
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    mode = sys.argv[3] if len(sys.argv) > 3 else "grant"
    lock = threading.Lock()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
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
        threading.Thread(target=serve, args=(conn, n, d, mode, lock),
                         daemon=True).start()
    s.close()


if __name__ == "__main__":
    main()
