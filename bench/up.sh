#!/bin/sh
#
# Boot to the guest's first hello: through castra-vmm against the same
# QEMU command line run by hand, in the same run, alternating, so that
# both see the same machine.  Prints the medians and their ratio.
#
# usage: up [nvms [rounds]]	(bench/up4 runs four VMs at once)
#
# Through castra-vmm the clock starts when the start request is sent,
# so it includes the overlay, the launch and the QMP handshake; by hand
# it starts when QEMU is exec'd (the overlay is made before).  The
# hello is the default image's agent reaching a listener on 127.0.0.1.
# The driver of regress/vm stands in for castrad; with one VM, the
# whole `castra up --wait` is timed as well.

nvms=${1:-1}
rounds=${2:-5}
B=${CASTRA_BUILDDIR:-$(pwd)/build}
bindir=${CASTRA_BINDIR:-$B/bin}
driver=$B/regress/vm/driver
image=$B/image

[ -x "$driver" ] || { echo "up: $driver is not built"; exit 1; }
[ -r "$image/rootfs.qcow2" ] || { echo "up: no image (make image)"; exit 1; }

work=$(mktemp -d /tmp/castra-bench-up.XXXXXX)
# Run as root, the VMs run as _castra, which must reach the directory.
chmod 755 "$work"
# QEMU outlives castra-vmm by design: whatever a failed round left
# running below the work directory is killed on the way out.
cleanup()
{
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in
		"$work"/*)	kill -9 "${p#/proc/}" 2>/dev/null ;;
		esac
	done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

vms=""
i=1
while [ $i -le "$nvms" ]; do
	vms="$vms b$i"
	i=$((i + 1))
done

# One round through castra-vmm; prints the slowest VM's milliseconds.
through_vmm()
{
	set --
	for v in $vms; do
		set -- "$@" start "$v" nowait
	done
	for v in $vms; do
		set -- "$@" hello "$v" 120
	done
	for v in $vms; do
		set -- "$@" stop "$v" 10 5 5
	done
	"$driver" -b "$bindir" -d "$work" -i "$image" "$@" \
	    >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; return 1; }
	python3 - "$work/out" <<'EOF'
import re, sys
sent, hello = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"(sent|hello) (\S+) .*at=(\d+)", line)
    if m:
        (sent if m.group(1) == "sent" else hello)[m.group(2)] = int(m.group(3))
if not hello or set(hello) != set(sent):
    sys.exit("a VM never said hello")
print(max(hello.values()) - min(sent.values()))
EOF
}

# The same command lines, from the records just written, run by hand.
by_hand()
{
	python3 - "$work" $vms <<'EOF'
import json, os, socket, subprocess, sys, time, select

work, names = sys.argv[1], sys.argv[2:]
sr = os.path.join(work, "sr")
lsock = socket.socket()
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", 0))
lsock.listen(16)
port = lsock.getsockname()[1]
argvs = {}
for n in names:
    rec = json.load(open(os.path.join(sr, "vms", n + ".json")))
    argv = [a if not a.startswith("name=opt/castra/port,") else
            "name=opt/castra/port,string=%d" % port for a in rec["argv"]]
    argvs[n] = argv
    ov = [a.split(",")[0][5:] for a in argv if a.startswith("file=overlays/")][0]
    with open(os.path.join(sr, "run", n + ".token"), "w") as f:
        f.write("0" * 64)
    disk = json.load(open(os.path.join(work, "disk.json")))["disk"]
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", disk,
                    "-F", "qcow2", os.path.join(sr, ov)], check=True)
procs, conns, hello = [], [], {}
start = time.time()
for n in names:
    procs.append(subprocess.Popen(argvs[n], cwd=sr,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
deadline = start + 120
bufs = {}
while len(hello) < len(names) and time.time() < deadline:
    r, _, _ = select.select([lsock] + conns, [], [], 0.05)
    for s in r:
        if s is lsock:
            c, _ = lsock.accept()
            c.sendall(b"castra-broker 0.1 ready\n")
            conns.append(c)
            bufs[c] = b""
            continue
        d = s.recv(4096)
        if not d:
            conns.remove(s)
            continue
        bufs[s] += d
        if b"\n" in bufs[s] and bufs[s].startswith(b"hello vm:"):
            name = bufs[s][9:].split(b" ")[0].decode()
            hello.setdefault(name, time.time())
            s.sendall(b"ok session=1\n")
            bufs[s] = b"-"
for p in procs:
    p.terminate()
for p in procs:
    p.wait()
if len(hello) < len(names):
    sys.exit("a hand-run VM never said hello")
print(int((max(hello.values()) - start) * 1000))
EOF
}

# A first round to warm the caches and to write the records.
through_vmm >/dev/null || exit 1
python3 -c 'import json, os, sys
w = sys.argv[1]
d = os.path.join(w, "home", "images", "sha256")
disk = [os.path.join(d, f) for f in os.listdir(d)
        if os.path.getsize(os.path.join(d, f)) < 64 << 20 and
        open(os.path.join(d, f), "rb").read(4) == b"QFI\xfb"][0]
json.dump({"disk": disk}, open(os.path.join(w, "disk.json"), "w"))' "$work"

# One VM: also the whole of `castra up --wait` (castrad already up, as
# after a first up) to the guest reachable, with a down after it.
castra_up()
{
	CASTRA_HOME=$work/chome python3 - "$bindir" "$work" <<'EOF'
import os, subprocess, sys, time
bindir, work = sys.argv[1:3]
conf = os.path.join(work, "proj", "castra.conf")
cmd = [os.path.join(bindir, "castra"), "-c", conf]
t = time.time()
r = subprocess.run(cmd + ["up", "--wait"], capture_output=True)
ms = int((time.time() - t) * 1000)
subprocess.run(cmd + ["down"], capture_output=True)
if r.returncode != 0:
    sys.exit("castra up --wait failed: " + r.stderr.decode()[-300:])
print(ms)
EOF
}

castra_setup()
{
	mkdir -p "$work/proj" "$work/chome"
	port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$work/proj/castra.conf" <<EOF
project "bench"
broker port $port
include "$image/default-image.conf"
vm "b1" {
	image "castra-default"
	memory 256M
}
EOF
	castra_up >/dev/null
}

castra_stop()
{
	[ -f "$work/chome/castrad.pid" ] &&
	    kill "$(cat "$work/chome/castrad.pid")" 2>/dev/null
	return 0
}

up=""
if [ "$nvms" = 1 ] && [ -x "$bindir/castra" ]; then
	castra_setup || up=failed
fi

hand=""
vmm=""
r=0
while [ $r -lt "$rounds" ]; do
	h=$(by_hand) || exit 1
	v=$(through_vmm) || exit 1
	hand="$hand $h"
	vmm="$vmm $v"
	if [ "$nvms" = 1 ] && [ "$up" != failed ]; then
		u=$(castra_up) || up=failed
		[ "$up" = failed ] || up="$up $u"
	fi
	r=$((r + 1))
done
castra_stop

python3 - "$nvms" "$hand" "$vmm" "$up" <<'EOF'
import statistics, sys
n = int(sys.argv[1])
hand = [int(x) for x in sys.argv[2].split()]
vmm = [int(x) for x in sys.argv[3].split()]
mh, mv = statistics.median(hand), statistics.median(vmm)
budget = 1.05 if n == 1 else 1.1
print("%d VM%s to first hello, %d rounds" % (n, "" if n == 1 else "s",
      len(hand)))
print("  by hand:          median %6.0f ms  %s" % (mh, hand))
print("  castra-vmm:       median %6.0f ms  %s" % (mv, vmm))
print("  ratio %.3f (budget %.2f)" % (mv / mh, budget))
if sys.argv[4] == "failed":
    print("  castra up --wait: failed")
elif sys.argv[4]:
    up = [int(x) for x in sys.argv[4].split()]
    mu = statistics.median(up)
    print("  castra up --wait: median %6.0f ms  %s" % (mu, up))
    print("  ratio %.3f (budget %.2f)" % (mu / mh, budget))
EOF
