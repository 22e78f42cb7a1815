#!/usr/bin/env python3
"""Serve one file slowly on 127.0.0.1, so that a download can be caught
in the middle: 64 KiB every 50 ms.  Ranges are honoured.  Each request
is logged, one line, to the log file.

usage: slowhttpd.py file logfile portfile
"""

import http.server
import os
import re
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        with open(sys.argv[1], "rb") as f:
            body = f.read()
        rng = self.headers.get("Range")
        with open(sys.argv[2], "a") as log:
            log.write("GET %s range=%s\n" % (self.path, rng or "-"))
        start = 0
        m = re.match(r"bytes=(\d+)-$", rng or "")
        if m and int(m.group(1)) < len(body):
            start = int(m.group(1))
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" %
                             (start, len(body) - 1, len(body)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        for i in range(start, len(body), 65536):
            self.wfile.write(body[i:i + 65536])
            self.wfile.flush()
            time.sleep(0.05)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    tmp = sys.argv[3] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, sys.argv[3])
    server.serve_forever()


if __name__ == "__main__":
    main()
