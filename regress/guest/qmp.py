#!/usr/bin/env python3
#
# Send one command to a QEMU monitor socket and print QEMU's answer.
# usage: qmp.py SOCKET COMMAND

import json
import socket
import sys


def reply(f):
    # Events may come before the answer; skip them.
    while True:
        line = f.readline()
        if not line:
            sys.exit("qmp: monitor closed")
        msg = json.loads(line)
        if "return" in msg or "error" in msg:
            return msg


def main():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    f = s.makefile("rw")
    if "QMP" not in json.loads(f.readline()):
        sys.exit("qmp: no greeting")
    for cmd in ("qmp_capabilities", sys.argv[2]):
        f.write(json.dumps({"execute": cmd}) + "\n")
        f.flush()
        msg = reply(f)
        if "error" in msg:
            sys.exit("qmp: %s: %s" % (cmd, msg["error"]))
    print(json.dumps(msg))


if __name__ == "__main__":
    main()
