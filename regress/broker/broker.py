#!/usr/bin/env python3
#
# Real TCP clients against a real castra-broker, started by the test
# driver (regress/broker/driver) that plays castrad's part.
#
# usage: broker.py case builddir bindir
#
# Each case runs in the current directory (the test's own), waits with
# bounded polls, and exits non-zero with a message when a check fails.

import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

GREETING = b"castra-broker 0.1 ready\n"
TOKEN = "ab" * 32
HOST_TOKEN = "cd" * 32


def fail(msg):
    sys.stderr.write("FAIL: %s\n" % msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def poll(pred, what, timeout=10.0):
    """Wait for pred() to be true, at most timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    fail("timed out waiting for " + what)


class Broker:
    def __init__(self, hello=None, heartbeat=None, nofile=None, port=None,
                 root=None):
        self.dir = os.path.abspath("b")
        self.state = root or os.path.join(self.dir, "state")
        os.makedirs(self.dir, exist_ok=True)
        argv = [os.path.join(BUILDDIR, "regress/broker/driver"),
                "-b", os.path.join(BINDIR, "castra-broker"),
                "-d", self.dir, "-k", HOST_TOKEN, "-v"]
        if port:
            argv += ["-p", str(port)]
        if root:
            argv += ["-s", root]
        if hello:
            argv += ["-H", str(hello)]
        if heartbeat:
            argv += ["-T", str(heartbeat)]
        if nofile:
            argv += ["-n", str(nofile)]
        self.err = open("broker.err", "w")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err,
                                  text=True, bufsize=1)
        line = self.p.stdout.readline()
        check(line.startswith("port "), "driver said %r" % line)
        self.port = int(line.split()[1])
        self.events = []
        # The listener is live once the broker logged it.
        poll(lambda: "listening on" in self.read("logs/broker.log"),
             "the broker to listen")

    def command(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            check(line != "", "driver ended")
            if line == "done\n":
                return
            self.events.append(line.strip())

    def handshake_events(self):
        """Handshake events castrad got, after a round trip."""
        self.command("noop")
        return [e for e in self.events if e.startswith("handshake ")]

    def stop(self):
        self.p.stdin.close()
        rest = self.p.stdout.read()
        self.events += [l for l in rest.splitlines() if l]
        rc = self.p.wait(timeout=10)
        check(rc == 0, "driver exit status %d (see broker.err)" % rc)

    def path(self, rel):
        return os.path.join(self.state, rel)

    def read(self, rel):
        try:
            with open(self.path(rel)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def lines(self, rel):
        return [l for l in self.read(rel).split("\n") if l]

    def events_json(self, rel="handshakes/handshake-events.jsonl"):
        return [json.loads(l) for l in self.lines(rel)]

    def connect(self, greet=True):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        if greet:
            g = recv_exact(s, len(GREETING))
            check(g == GREETING, "greeting %r" % g)
        return s

    def hello(self, line):
        """Send a hello line; return (socket, reply line)."""
        s = self.connect()
        s.sendall(line.encode() + b"\n")
        return s, recv_line(s)

    def session(self, name, caps="bus-v1", extra=""):
        s, reply = self.hello("hello vm:%s capabilities=%s%s" %
                              (name, caps, extra))
        check(re.fullmatch(r"ok session=[0-9a-f]{16}", reply),
              "hello of %s: %r" % (name, reply))
        self.sid = reply.split("=")[1]
        return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            break
        buf += b
    return buf


def recv_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        try:
            b = s.recv(1)
        except ConnectionResetError:
            break
        if not b:
            break
        buf += b
    return buf.decode().rstrip("\n")


def send_frame(s, obj):
    body = obj if isinstance(obj, bytes) else \
        json.dumps(obj, separators=(",", ":")).encode()
    s.sendall(struct.pack(">I", len(body)) + body)


def framed(body):
    return struct.pack(">I", len(body)) + body


def recv_frame(s):
    """The next frame as text, or None at the end of the stream."""
    hdr = recv_exact(s, 4)
    if len(hdr) < 4:
        return None
    (n,) = struct.unpack(">I", hdr)
    return recv_exact(s, n).decode()


def closed(s, timeout=10.0):
    """True once the broker has closed s (reading what is left)."""
    s.settimeout(timeout)
    try:
        while s.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        return False
    return True


def local(s):
    return "127.0.0.1:%d" % s.getsockname()[1]


def log_line(b, vm, remote, caps, kind, outcome, reason=None):
    """The README's log line for these fields, found in broker.log."""
    want = ("handshake ts=(\\d+) vm=%s remote=%s capabilities=\\[%s\\] "
            "session_kind=%s session_outcome=%s%s$" %
            (re.escape(vm), re.escape(remote), re.escape(caps), kind,
             outcome, "" if reason is None else " reason=" + reason))
    for l in b.lines("logs/broker.log"):
        m = re.fullmatch(r"\[host-broker\] (\d\d):(\d\d):(\d\d) INFO " +
                         want, l)
        if m:
            ts = int(m.group(4))
            t = time.localtime(ts)
            check((t.tm_hour, t.tm_min, t.tm_sec) ==
                  tuple(int(m.group(i)) for i in (1, 2, 3)),
                  "log time is not local time of ts: %s" % l)
            return ts
    fail("no log line %r in:\n%s" % (want, b.read("logs/broker.log")))


def find_event(b, vm, remote):
    for e in b.events_json():
        if e["vm"] == vm and e["remote_addr"] == remote:
            return e
    fail("no handshake event for %s from %s" % (vm, remote))


def event_text(b, vm, remote):
    """The exact JSON text of the event, for byte comparisons."""
    for l in b.lines("handshakes/handshake-events.jsonl"):
        e = json.loads(l)
        if e["vm"] == vm and e["remote_addr"] == remote:
            return l
    fail("no handshake event for %s from %s" % (vm, remote))


def expect_record(b, vm, remote, caps, kind, outcome, reason=None):
    """Both records of one hello, byte for byte, with one timestamp."""
    poll(lambda: any(e["remote_addr"] == remote
                     for e in b.events_json()), "the event of " + remote)
    ts = log_line(b, vm, remote, ",".join(caps) if caps else "-", kind,
                  outcome, reason)
    text = event_text(b, vm, remote)
    want = '{"timestamp":%d,"vm":%s,"capabilities":%s,' \
        '"session_kind":"%s","session_outcome":"%s",%s"remote_addr":"%s"}' \
        % (ts, json.dumps(vm), json.dumps(caps, separators=(",", ":")),
           kind, outcome, "" if reason is None else
           '"reason":"%s",' % reason, remote)
    check(text == want, "event\n  %s\nwanted\n  %s" % (text, want))
    return ts


# The cases.

def case_granted(b):
    s, reply = b.hello("hello vm:devbox capabilities=bus-v1")
    check(re.fullmatch(r"ok session=[0-9a-f]{16}", reply), reply)
    ts = expect_record(b, "devbox", local(s), ["bus-v1"], "guest",
                       "granted")
    rec = json.loads(poll(lambda: b.read("handshakes/devbox.json"),
                          "devbox.json"))
    check(rec["vm"] == "devbox" and rec["timestamp"] == ts,
          "record %r" % rec)
    check(rec["timestamp_ms"] // 1000 == ts, "timestamp_ms %r" % rec)
    check(rec["remote_addr"] == local(s), "remote_addr %r" % rec)
    check(rec["capabilities"] == ["bus-v1"], "capabilities %r" % rec)
    check(rec["session"] == reply.split("=")[1], "session %r" % rec)
    check(rec["bus"]["topics"] == [] and
          rec["bus"]["last_heartbeat_ms"] >= rec["timestamp_ms"],
          "bus %r" % rec)
    ev = poll(lambda: b.handshake_events(), "the event to castrad")
    check(ev == ["handshake devbox %d" % rec["timestamp_ms"]],
          "castrad got %r" % ev)
    s.close()


def case_denied(b):
    s, reply = b.hello("hello vm:host capabilities=bus-v1")
    check(reply == "denied reason=reserved-identity", reply)
    check(closed(s), "not closed")
    expect_record(b, "host", local(s), ["bus-v1"], "guest", "denied",
                  "reserved-identity")
    s, reply = b.hello("hello vm:HOST capabilities=bus-v1")
    check(reply == "denied reason=reserved-identity", reply)
    s, reply = b.hello("hello vm:ghost capabilities=foo")
    check(reply == "denied reason=missing-capability", reply)
    expect_record(b, "ghost", local(s), ["foo"], "guest", "denied",
                  "missing-capability")
    s, reply = b.hello("hello vm:host")
    check(reply == "denied reason=missing-capability", reply)
    expect_record(b, "host", local(s), [], "guest", "denied",
                  "missing-capability")
    # Only a granted guest hello leaves a record.
    check(not os.path.exists(b.path("handshakes/host.json")), "host.json")
    check(not os.path.exists(b.path("handshakes/HOST.json")), "HOST.json")
    check(not os.path.exists(b.path("handshakes/ghost.json")),
          "ghost.json")
    check(b.handshake_events() == [], "castrad told of a denial")


def case_protocol_error(b):
    bad = ["bogus", "", "hello", "hello devbox capabilities=bus-v1",
           "hello vm: capabilities=bus-v1", "hello vm:-x capabilities=bus-v1",
           "hello vm:a/b capabilities=bus-v1",
           "hello vm:" + "a" * 64 + " capabilities=bus-v1",
           "hello vm:a capabilities=bus-v1 token=xyz",
           "hello vm:a capabilities=bus-v1 token=ab token=ab",
           "hello vm:a capabilities=b\x01us", "hello vm:a caps\x7f",
           "hello vm:a capabilities=" + ",".join("c%d" % i
                                                  for i in range(17)),
           "hello vm:a capabilities=" + "c" * 33,
           "hello vm:a capabilities=bus-v1 token=ab stray",
           "hello vm:a capabilities=bus\"v1"]
    for line in bad:
        s, reply = b.hello(line)
        check(reply == "denied reason=protocol-error",
              "%r got %r" % (line, reply))
        check(closed(s), "%r: not closed" % line)
        expect_record(b, local(s), local(s), [], "guest", "denied",
                      "protocol-error")
    # Non-ASCII bytes too.
    s = b.connect()
    s.sendall(b"hello vm:\xc3\xa9 capabilities=bus-v1\n")
    check(recv_line(s) == "denied reason=protocol-error", "utf-8 name")
    check(os.listdir(b.path("handshakes")) ==
          ["handshake-events.jsonl"], "records: %r" %
          os.listdir(b.path("handshakes")))


def case_capabilities(b):
    s, reply = b.hello("hello vm:caps capabilities=Zeta,bus-v1,,BUS-V1,"
                       " alpha , beta\tcapabilities=Beta,zeta,Gamma "
                       "future=ignored")
    check(reply.startswith("ok session="), reply)
    expect_record(b, "caps", local(s),
                  ["alpha", "beta", "bus-v1", "Gamma", "Zeta"], "guest",
                  "granted")
    rec = json.loads(poll(lambda: b.read("handshakes/caps.json"),
                          "caps.json"))
    check(rec["capabilities"] == ["alpha", "beta", "bus-v1", "Gamma",
                                  "Zeta"], "record %r" % rec)
    # The keyword is case-insensitive, CRLF is tolerated.
    s2, reply = b.hello("HELLO vm:crlf CAPABILITIES=bus-v1\r")
    check(reply.startswith("ok session="), reply)
    expect_record(b, "crlf", local(s2), ["bus-v1"], "guest", "granted")


def case_line_length(b):
    base = "hello vm:long capabilities=bus-v1 pad="
    line = base + "x" * (511 - len(base))
    check(len(line) == 511, "test line")
    s, reply = b.hello(line)
    check(reply.startswith("ok session="), "511 bytes: %r" % reply)
    line = base + "x" * (512 - len(base))
    s, reply = b.hello(line)
    check(reply == "denied reason=protocol-error", "512 bytes: %r" % reply)
    expect_record(b, local(s), local(s), [], "guest", "denied",
                  "protocol-error")


def case_slow_client(b):
    """One byte a second would never end a line: the deadline is total."""
    s = b.connect()
    start = time.monotonic()
    line = b"hello vm:slow capabilities=bus-v1\n"
    s.settimeout(0.3)
    gone = False
    for c in line:
        try:
            s.sendall(bytes([c]))
            if s.recv(1) == b"":
                gone = True
                break
        except socket.timeout:
            continue
        except (BrokenPipeError, ConnectionResetError):
            gone = True
            break
    elapsed = time.monotonic() - start
    check(gone, "the broker kept the slow client")
    check(elapsed < len(line) * 0.3, "cut only after %.1f s" % elapsed)
    expect_record(b, local(s), local(s), [], "guest", "timeout",
                  "read-timeout")


def case_idle_flood(b):
    """1,000 idle connections do not delay a real hello."""
    idle = []
    for i in range(1000):
        c = socket.create_connection(("127.0.0.1", b.port), timeout=10)
        c.sendall(b"hel")
        idle.append(c)
    start = time.monotonic()
    s, reply = b.hello("hello vm:busy capabilities=bus-v1")
    took = time.monotonic() - start
    check(reply.startswith("ok session="), reply)
    # They are all still there: the hello did not wait for them to go.
    check(took < 5, "hello took %.1f s" % took)
    for c in idle[:10] + idle[-10:]:
        c.setblocking(False)
        try:
            data = c.recv(100)
            check(data == GREETING, "idle connection got %r" % data)
        except BlockingIOError:
            pass
    n = sum(1 for e in b.events_json() if e["session_outcome"] == "timeout")
    check(n == 0, "%d idle connections timed out already" % n)
    for c in idle:
        c.close()


def case_evict(b):
    """At the cap, the oldest unfinished hello makes room."""
    idle = []
    for i in range(200):
        c = socket.create_connection(("127.0.0.1", b.port), timeout=10)
        idle.append(c)
    s, reply = b.hello("hello vm:room capabilities=bus-v1")
    check(reply.startswith("ok session="), reply)
    first = local(idle[0])
    expect_record(b, first, first, [], "guest", "timeout", "evicted")
    check(closed(idle[0], 5), "the oldest was not dropped")
    for c in idle:
        c.close()


def case_frames(b):
    s = b.session("fr")
    send_frame(s, {"type": "heartbeat"})
    check(recv_frame(s) == '{"ack":"heartbeat","status":"ok","type":"ack"}',
          "heartbeat ack")
    # The largest frame there may be: exactly 65536 bytes.
    empty = len(json.dumps({"type": "publish", "topic": "big",
                            "payload": ""}, separators=(",", ":")))
    body = json.dumps({"type": "publish", "topic": "big",
                       "payload": "x" * (65536 - empty)},
                      separators=(",", ":")).encode()
    check(len(body) == 65536, "test frame")
    send_frame(s, body)
    check(recv_frame(s) == '{"ack":"publish","delivered":0,"status":"ok",'
          '"topic":"big","type":"ack"}', "64 KiB publish")
    bad = [(struct.pack(">I", 0), "bad frame length 0"),
           (struct.pack(">I", 65537), "bad frame length 65537"),
           (framed(b"{nope"), "bad JSON"),
           (framed(b"[]"), "no type"),
           (framed(b'{"type":"nope"}'), "unknown type"),
           (framed(b'{"type":"subscribe"}'), "missing topic"),
           (framed(b'{"type":"publish","topic":"a/../b"}'), "bad topic"),
           (framed(b'{"type":"publish","type":"heartbeat"}'), "bad JSON"),
           (framed(b'{"type":"publish","payload":"\\u0000"}'), "bad JSON")]
    for raw, why in bad:
        s = b.session("fr")
        sid = b.sid
        s.sendall(raw)
        ack = recv_frame(s)
        check(ack == '{"reason":"%s","status":"error","type":"ack"}' % why,
              "%r: %r" % (raw, ack))
        check(closed(s), "%r: not closed" % raw)
        ev = poll(lambda: [e for e in b.events_json(
            "handshakes/bus-events.jsonl") if e.get("detail") == why and
            e["session"] == sid], "bus event for " + why)
        check(list(ev[0].keys()) == ["timestamp", "vm", "session", "reason",
                                     "action", "detail"] and
              ev[0]["reason"] == "protocol_error" and
              ev[0]["action"] == "disconnect" and ev[0]["vm"] == "fr",
              "bus event %r" % ev[0])
    # A clean close is not recorded as an error.
    n = len(b.lines("handshakes/bus-events.jsonl"))
    s = b.session("fr")
    s.close()
    poll(lambda: json.loads(b.read("handshakes/fr.json")) ==
         dict(json.loads(b.read("handshakes/fr.json")), session=b.sid,
              bus=dict(json.loads(b.read("handshakes/fr.json"))["bus"],
                       connected=False)), "the record of the close")
    check(len(b.lines("handshakes/bus-events.jsonl")) == n,
          "a clean close was recorded")


def case_subscribe(b):
    s = b.session("sub")
    for i in range(16):
        send_frame(s, {"type": "subscribe", "topic": "t%02d" % i})
        check(recv_frame(s) == '{"ack":"subscribe","status":"ok",'
              '"topic":"t%02d","type":"ack"}' % i, "subscribe %d" % i)
    send_frame(s, {"type": "subscribe", "topic": "t00"})
    check(recv_frame(s) == '{"ack":"subscribe","status":"ok",'
          '"topic":"t00","type":"ack"}', "subscribe again")
    send_frame(s, {"type": "subscribe", "topic": "one-more"})
    check(recv_frame(s) == '{"ack":"subscribe","reason":"subscription '
          'limit 16 exceeded","status":"error","topic":"one-more",'
          '"type":"ack"}', "17th subscribe")
    send_frame(s, {"type": "heartbeat"})
    check(recv_frame(s) == '{"ack":"heartbeat","status":"ok","type":"ack"}',
          "the session goes on")
    rec = poll(lambda: len(json.loads(b.read("handshakes/sub.json") or
                                      "{}").get("bus", {}).get("topics",
                                                               [])) == 16
               and json.loads(b.read("handshakes/sub.json")),
               "topics in sub.json")
    check(rec["bus"]["topics"] == ["t%02d" % i for i in range(16)],
          "topics %r" % rec["bus"])
    s.close()
    poll(lambda: json.loads(b.read("handshakes/sub.json"))["bus"]["topics"]
         == [], "topics cleared at the end")


def case_delivery(b):
    a = b.session("a")
    c = b.session("c")
    send_frame(c, {"type": "subscribe", "topic": "news"})
    recv_frame(c)
    send_frame(a, {"type": "publish", "topic": "news",
                   "payload": {"z": 1, "a": [1, "two"]}})
    check(recv_frame(a).startswith('{"ack":"publish","delivered":1,'),
          "publish ack")
    m = json.loads(recv_frame(c))
    check(m["type"] == "message" and m["topic"] == "news" and
          m["vm"] == "a" and m["payload"] == {"z": 1, "a": [1, "two"]},
          "message %r" % m)
    # vm:<name> reaches that guest without a subscription.
    send_frame(a, {"type": "publish", "topic": "vm:c", "payload": 7})
    check(recv_frame(a).startswith('{"ack":"publish","delivered":1,'),
          "vm: publish ack")
    m = json.loads(recv_frame(c))
    check(m["topic"] == "vm:c" and m["payload"] == 7, "vm: message %r" % m)
    # broadcast by default, from a host session.
    send_frame(c, {"type": "subscribe", "topic": "broadcast"})
    recv_frame(c)
    h = b.session("host", "bus-v1,host-bus", " token=" + HOST_TOKEN)
    send_frame(h, {"type": "publish", "payload": "hi"})
    check(recv_frame(h) == '{"ack":"publish","delivered":1,"status":"ok",'
          '"topic":"broadcast","type":"ack"}', "host publish ack")
    m = json.loads(recv_frame(c))
    check(m["vm"] == "host" and m["topic"] == "broadcast", "%r" % m)
    # The logs: every message in bus.log, each in its publisher's and
    # its target's.
    bus = [json.loads(l) for l in b.lines("logs/bus/bus.log")]
    check([m["topic"] for m in bus] == ["news", "vm:c", "broadcast"],
          "bus.log %r" % bus)
    check(b.lines("logs/bus/bus.log")[0].startswith(
        '{"payload":{"a":[1,"two"],"z":1},"timestamp":'), "bus.log keys")
    check(len(b.lines("logs/bus/a.log")) == 2, "a.log")
    check(len(b.lines("logs/bus/c.log")) == 1, "c.log")
    check(len(b.lines("logs/bus/host.log")) == 1, "host.log")


def case_slow_consumer(b):
    a = b.session("pub")
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.connect(("127.0.0.1", b.port))
    c.settimeout(10)
    recv_line(c)
    c.sendall(b"hello vm:lazy capabilities=bus-v1\n")
    check(recv_line(c).startswith("ok session="), "lazy hello")
    send_frame(c, {"type": "subscribe", "topic": "firehose"})
    recv_frame(c)
    # lazy reads no more; pub goes on publishing and is not held up.
    for i in range(60):
        send_frame(a, {"type": "publish", "topic": "firehose",
                       "payload": "y" * 60000})
        ack = json.loads(recv_frame(a))
        check(ack["status"] == "ok", "publish %d: %r" % (i, ack))
        if ack["delivered"] == 0:
            break
    check(ack["delivered"] == 0, "lazy was never dropped")
    ev = [e for e in b.events_json("handshakes/bus-events.jsonl")
          if e["vm"] == "lazy"]
    check(len(ev) == 1 and ev[0]["reason"] == "slow_consumer" and
          ev[0]["action"] == "disconnect", "bus events %r" % ev)
    check(closed(c), "lazy still connected")


def case_heartbeat(b):
    s = b.session("hb")
    t0 = json.loads(b.read("handshakes/hb.json"))["bus"]["last_heartbeat_ms"]
    time.sleep(1.2)     # past the record's write interval
    send_frame(s, {"type": "heartbeat"})
    check(recv_frame(s) == '{"ack":"heartbeat","status":"ok","type":"ack"}',
          "ack")
    poll(lambda: json.loads(b.read("handshakes/hb.json"))["bus"]
         ["last_heartbeat_ms"] > t0, "last_heartbeat_ms to move")
    # Now silence: the heartbeat timeout (2 s here) ends the session.
    check(closed(s, 10), "no heartbeat, still connected")
    ev = poll(lambda: [e for e in b.events_json(
        "handshakes/bus-events.jsonl") if e["reason"] ==
        "heartbeat_timeout"], "the bus event")
    check(ev[0]["vm"] == "hb" and ev[0]["action"] == "disconnect",
          "%r" % ev)


def case_tokens(b):
    b.command("vm devbox " + TOKEN)
    for extra in ["", " token=" + "ab" * 31, " token=" + "ba" * 32]:
        s, reply = b.hello("hello vm:devbox capabilities=bus-v1" + extra)
        check(reply == "denied reason=unauthorized", "%r: %r" %
              (extra, reply))
        expect_record(b, "devbox", local(s), ["bus-v1"], "guest",
                      "denied", "unauthorized")
    check(not os.path.exists(b.path("handshakes/devbox.json")),
          "devbox.json after denials")
    s, reply = b.hello("hello vm:devbox capabilities=bus-v1 token=" + TOKEN)
    check(reply.startswith("ok session="), reply)
    poll(lambda: b.read("handshakes/devbox.json"), "devbox.json")
    # Forgotten: the name is open again.
    b.command("forget devbox")
    s, reply = b.hello("hello vm:devbox capabilities=bus-v1")
    check(reply.startswith("ok session="), "after forget: " + reply)
    # Unregistered names need no token.
    s, reply = b.hello("hello vm:other capabilities=bus-v1")
    check(reply.startswith("ok session="), reply)
    # Host sessions need the project's token.
    for extra in ["", " token=" + TOKEN]:
        s, reply = b.hello("hello vm:host capabilities=bus-v1,host-bus" +
                           extra)
        check(reply == "denied reason=unauthorized", "host %r" % reply)
        expect_record(b, "host", local(s), ["bus-v1", "host-bus"], "host",
                      "denied", "unauthorized")
    s, reply = b.hello("hello vm:host capabilities=host-bus,bus-v1 token=" +
                       HOST_TOKEN)
    check(reply.startswith("ok session="), reply)
    expect_record(b, "host", local(s), ["bus-v1", "host-bus"], "host",
                  "granted")
    check(not os.path.exists(b.path("handshakes/host.json")), "host.json")
    ev = b.handshake_events()
    check([e.split()[1] for e in ev] == ["devbox", "devbox", "other"],
          "castrad got %r" % ev)


def case_pipelined(b):
    """Frames right behind the hello, in the same segment."""
    s = b.connect()
    s.sendall(b"hello vm:pipe capabilities=bus-v1\n" +
              struct.pack(">I", 20) + b'{"type":"heartbeat"}')
    check(recv_line(s).startswith("ok session="), "hello")
    check(recv_frame(s) == '{"ack":"heartbeat","status":"ok","type":"ack"}',
          "ack of the pipelined frame")


def case_stop(b):
    s = b.session("st")
    b.command("stop")
    check(closed(s), "session kept after stop")
    try:
        socket.create_connection(("127.0.0.1", b.port), timeout=2)
        fail("still listening after stop")
    except ConnectionRefusedError:
        pass
    poll(lambda: json.loads(b.read("handshakes/st.json"))["bus"]
         ["connected"] is False, "st.json to say disconnected")


def case_project_again(b):
    """A repeated project message moves the records to the new fd."""
    s, reply = b.hello("hello vm:one capabilities=bus-v1")
    os.rename(b.state, b.state + ".old")
    os.makedirs(b.state)
    if os.geteuid() == 0:
        # As castrad does, and the driver did: the broker is _castra.
        import pwd
        pw = pwd.getpwnam("_castra")
        os.chown(b.state, pw.pw_uid, pw.pw_gid)
    b.command("project")
    s, reply = b.hello("hello vm:two capabilities=bus-v1")
    check(reply.startswith("ok session="), reply)
    poll(lambda: b.read("handshakes/two.json"), "two.json in the new root")
    check(not os.path.exists(b.path("handshakes/one.json")), "one.json")
    check(os.path.exists(b.state + ".old/handshakes/one.json"), "old root")


def case_capacity(b):
    """A project keeps at most 4096 names; then new ones are refused."""
    for i in range(4096):
        s, reply = b.hello("hello vm:n%d capabilities=bus-v1" % i)
        check(reply.startswith("ok session="), "n%d: %r" % (i, reply))
        s.close()
    s, reply = b.hello("hello vm:one-too-many capabilities=bus-v1")
    check(reply == "denied reason=capacity", reply)
    expect_record(b, "one-too-many", local(s), ["bus-v1"], "guest",
                  "denied", "capacity")
    # Known names still come back.
    s, reply = b.hello("hello vm:n0 capabilities=bus-v1")
    check(reply.startswith("ok session="), reply)


def rotate_setup():
    """Logs just short of 8 MiB before the broker starts."""
    root = os.path.abspath("b/state")
    for d in ("logs", "handshakes"):
        os.makedirs(os.path.join(root, d))
    for rel in ("logs/broker.log", "handshakes/handshake-events.jsonl"):
        with open(os.path.join(root, rel), "w") as f:
            f.truncate(8 * 1024 * 1024 - 10)
    with open(os.path.join(root, "logs/broker.log.1"), "w") as f:
        f.write("an older generation\n")
    if os.geteuid() == 0:
        # The broker's own files, as it would have made them.
        import pwd
        pw = pwd.getpwnam("_castra")
        for dirpath, dirs, files in os.walk(root):
            for n in dirs + files:
                os.chown(os.path.join(dirpath, n), pw.pw_uid, pw.pw_gid)
    return {}


def case_rotate(b):
    s, reply = b.hello("hello vm:rot capabilities=bus-v1")
    check(reply.startswith("ok session="), reply)
    expect_record(b, "rot", local(s), ["bus-v1"], "guest", "granted")
    for rel in ("logs/broker.log", "handshakes/handshake-events.jsonl"):
        check(os.path.getsize(b.path(rel + ".1")) == 8 * 1024 * 1024 - 10,
              rel + ".1 is not the old file")
        check(os.path.getsize(b.path(rel)) < 4096, rel + " not started anew")


def cli_setup():
    """A project whose state root and port the driver's broker serves."""
    proj = os.path.abspath("proj")
    os.makedirs(proj)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with open(os.path.join(proj, "castra.conf"), "w") as f:
        f.write('project "cli"\nstate ".castra"\nbroker port %d\n' % port)
    root = os.path.join(proj, ".castra")
    os.makedirs(root)
    fd = os.open(os.path.join(root, "token"), os.O_WRONLY | os.O_CREAT,
                 0o600)
    os.write(fd, HOST_TOKEN.encode())
    os.close(fd)
    return {"port": port, "root": root}


def castra(*args, **kw):
    env = dict(os.environ, CASTRA_HOME=os.path.abspath("home"))
    return subprocess.Popen([os.path.join(BINDIR, "castra"),
                             "-c", os.path.abspath("proj/castra.conf")] +
                            list(args), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def castra_run(*args):
    p = castra(*args)
    out, err = p.communicate(timeout=20)
    return p.returncode, out, err


def case_cli(b):
    """castra bus publish, subscribe and tail on the project's broker."""
    sub = castra("bus", "subscribe", "--topic", "news")
    # Subscribed once the broker's log says so and a publish reaches it.
    poll(lambda: "vm=host remote=" in b.read("logs/broker.log") and
         "session_kind=host session_outcome=granted" in
         b.read("logs/broker.log"), "castra bus subscribe to connect")
    delivered = None
    for i in range(100):
        rc, out, err = castra_run("bus", "publish", "--topic", "news",
                                  "--payload", '{"n":%d}' % i)
        check(rc == 0, "publish: %d %s" % (rc, err))
        if "delivered to 1 session\n" == out[-len("delivered to 1 session\n"):]:
            delivered = i
            break
        time.sleep(0.05)
    check(delivered is not None, "castra bus subscribe never got one: %r" %
          out)
    check(out == "published to news, delivered to 1 session\n", out)
    m = json.loads(sub.stdout.readline())
    check(m["type"] == "message" and m["topic"] == "news" and
          m["payload"] == {"n": delivered} and m["vm"] == "host", "%r" % m)
    sub.terminate()
    sub.wait(timeout=10)
    rc, out, err = castra_run("bus", "publish", "--payload", "{nope")
    check(rc == 65 and "not JSON" in err, "bad payload: %d %r" % (rc, err))
    rc, out, err = castra_run("bus", "publish")
    check(rc == 64, "no payload: %d" % rc)
    # tail: the last lines of bus.log, and of a VM's log.
    rc, out, err = castra_run("bus", "tail")
    lines = out.splitlines()
    check(rc == 0 and len(lines) == delivered + 1 and
          json.loads(lines[-1])["payload"] == {"n": delivered},
          "tail: %d %r" % (rc, out[-200:]))
    rc, out, err = castra_run("bus", "tail", "--vm", "host")
    check(rc == 0 and len(out.splitlines()) == delivered + 1, "tail --vm")
    rc, out, err = castra_run("bus", "tail", "--vm", "../x")
    check(rc == 64, "tail --vm ../x: %d" % rc)
    tail = castra("bus", "tail", "-f", "--vm", "devbox")
    rc, out, err = castra_run("bus", "publish", "--topic", "vm:devbox",
                              "--payload", '"to devbox"')
    check(rc == 0 and "delivered to 0 sessions" in out, out + err)
    m = json.loads(tail.stdout.readline())
    check(m["payload"] == "to devbox" and m["topic"] == "vm:devbox",
          "tail -f: %r" % m)
    tail.terminate()
    tail.wait(timeout=10)
    # A wrong token is refused.
    with open(os.path.join(b.state, "token"), "w") as f:
        f.write("00" * 32)
    rc, out, err = castra_run("bus", "publish", "--payload", "1")
    check(rc == 77 and "unauthorized" in err, "bad token: %d %r" %
          (rc, err))


CASES = {
    "granted": {}, "denied": {}, "protocol_error": {}, "capabilities": {},
    "line_length": {}, "slow_client": {"hello": 1}, "idle_flood":
    {"hello": 30}, "evict": {"hello": 30, "nofile": 200}, "frames": {},
    "subscribe": {}, "delivery": {}, "slow_consumer": {},
    "heartbeat": {"heartbeat": 2}, "tokens": {}, "pipelined": {},
    "stop": {}, "project_again": {}, "cli": cli_setup,
    "rotate": rotate_setup, "capacity": {},
}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        sys.exit("usage: broker.py case builddir bindir")
    BUILDDIR, BINDIR = sys.argv[2], sys.argv[3]
    opts = CASES[sys.argv[1]]
    broker = Broker(**(opts() if callable(opts) else opts))
    try:
        globals()["case_" + sys.argv[1]](broker)
    finally:
        if broker.p.poll() is None:
            broker.stop()
    check(broker.p.returncode == 0, "broker exit status")
    print("ok")
