#!/usr/bin/env python3
"""A small HTTP server for castra-imgd's tests.

Serves the files of a directory on 127.0.0.1 with Range support and
logs every request, one line each, to a log file:

    GET /path range=bytes=N- (or range=-)

The first component of the path picks a behaviour for the file named
by the rest:

    /ok/NAME      serve it
    /half/NAME    without a Range header: promise the whole file, send
                  half, close; with one: serve the range
    /stall/NAME   promise the whole file, send half, then nothing
    /wrong/NAME   serve it with one byte changed
    /slow/NAME    serve it in small pieces with pauses
    /status/N/NAME answer with HTTP status N

usage: httpd.py root logfile portfile
The port it listens on is written to portfile once it listens.
"""

import http.server
import os
import re
import socketserver
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log_request_line(self):
        line = "%s %s range=%s\n" % (self.command, self.path,
                                     self.headers.get("Range", "-"))
        with self.server.log_lock:
            with open(self.server.logfile, "a") as f:
                f.write(line)

    def do_GET(self):
        self.log_request_line()
        parts = self.path.lstrip("/").split("/")
        mode = parts[0]
        if mode == "status" and len(parts) >= 3:
            self.send_error(int(parts[1]))
            return
        name = "/".join(parts[1:])
        path = os.path.join(self.server.root, name)
        if ".." in parts or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        if mode == "wrong" and data:
            data = bytes([data[0] ^ 0xff]) + data[1:]
        start = 0
        rng = self.headers.get("Range")
        m = re.match(r"bytes=(\d+)-$", rng or "")
        if m:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" %
                             (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if mode == "half" and not m:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "stall":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            # Hold the connection open without a byte more.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                time.sleep(0.2)
            self.close_connection = True
            return
        if mode == "slow":
            step = max(len(body) // 20, 1)
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                time.sleep(0.02)
            return
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: httpd.py root logfile portfile")
    srv = Server(("127.0.0.1", 0), Handler)
    srv.root = sys.argv[1]
    srv.logfile = sys.argv[2]
    srv.log_lock = threading.Lock()
    open(srv.logfile, "a").close()
    tmp = sys.argv[3] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, sys.argv[3])
    srv.serve_forever()


if __name__ == "__main__":
    main()
