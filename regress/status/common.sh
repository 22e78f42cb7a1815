# Helpers shared by the regress/status scripts; sourced, not run.
#
# Every test works in the directory Kyua made for it: a project in
# ./proj whose state lives in ./proj/st (castra.conf's "state"), and a
# CASTRA_HOME of its own (common.subr).

. "$(atf_get_srcdir)/../common.subr"

setup_env()
{
	castra="$(atf_config_get bindir)/castra"
	srcdir="$(atf_config_get srcdir)"
	unset CASTRA_IMAGE_DIR
	mkdir -p proj
	SR="$PWD/proj/st"
}

# A project: VMs "web" (two instances, a forward each), "db".
write_conf()
{
	cat >proj/castra.conf <<CONF
project "demo"
state "st"
broker port 7170
vm "web" {
	disk "base.qcow2"
	cpus 2
	memory 512M
	count 2
	forward tcp ${WEB_PORT:-18080} to 80
}
vm "db" {
	disk "base.qcow2"
}
CONF
}

state_dirs()
{
	mkdir -p "$SR/vms" "$SR/handshakes" "$SR/logs/bus" "$SR/overlays" \
	    "$SR/run"
}

now_ms()
{
	date +%s%3N
}

# Field 22 of /proc/PID/stat, counted after the command name.
starttime()
{
	sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20
}

# A process of our own that stays alive; its pid in $bgpid.
start_sleeper()
{
	sleep 300 </dev/null >/dev/null 2>&1 &
	bgpid=$!
	echo "$bgpid" >>sleepers
}

stop_sleepers()
{
	if [ -f sleepers ]; then
		while read -r p; do
			kill "$p" 2>/dev/null
		done <sleepers
		rm -f sleepers
	fi
}

# vm_record name state pid start_time [extra json members]
vm_record()
{
	printf '{"name":"%s","pid":%s,"start_time":%s,"argv":["qemu"],"accel":"tcg","overlay":"%s/overlays/%s.qcow2","qmp":"%s/run/%s.qmp","cpus":2,"memory_mib":512,"forwards":[],"state":"%s"%s}\n' \
	    "$1" "$3" "$4" "$SR" "$1" "$SR" "$1" "$2" "${5:-}" \
	    >"$SR/vms/$1.json"
}

# handshake name timestamp_ms [bus json]
handshake()
{
	printf '{"vm":"%s","timestamp":%s,"timestamp_ms":%s,"remote_addr":"127.0.0.1:40000","capabilities":["bus-v1"],"session":"s1"%s}\n' \
	    "$1" "$(($2 / 1000))" "$2" "${3:+,\"bus\":$3}" \
	    >"$SR/handshakes/$1.json"
}

# python3 -c "$jq" 'expression over j' <file: one value of a JSON file
jq='import json,sys
j = json.load(sys.stdin)
v = eval(sys.argv[1])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)'

status_json()
{
	(cd proj && "$castra" status --json) >status.json 2>status.err
}
