#! /usr/bin/env atf-sh
#
# The bootstrap pipeline of castra up, end to end: a private castrad,
# real guests of the default image under QEMU, the real broker, and for
# the ssh transport a real sshd on 127.0.0.1 with its keys and its
# configuration under the test case's directory.  The guest is what
# says hello; sshd is where the bootstrap runs, so what run.sh does can
# be checked from here.

. "$(atf_get_srcdir)/../project.subr"

# sshd -D on 127.0.0.1:$sshport, accepting ssh/user for root.
start_sshd()
{
	[ "$(id -u)" = 0 ] || atf_skip "sshd needs root here"
	[ -x /usr/sbin/sshd ] || atf_skip "no /usr/sbin/sshd"
	mkdir -p /run/sshd ssh
	ssh-keygen -q -t ed25519 -N '' -f ssh/host ||
	    atf_fail "ssh-keygen host"
	ssh-keygen -q -t ed25519 -N '' -f ssh/user ||
	    atf_fail "ssh-keygen user"
	cp ssh/user.pub ssh/authorized_keys
	sshport=$(free_port)
	cat >ssh/sshd_config <<EOF2
ListenAddress 127.0.0.1
Port $sshport
HostKey $PWD/ssh/host
AuthorizedKeysFile $PWD/ssh/authorized_keys
PidFile $PWD/ssh/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF2
	/usr/sbin/sshd -D -e -f "$PWD/ssh/sshd_config" 2>ssh/log &
	echo $! >ssh/mypid
	wait_for 5 "python3 -c \"import socket; \
socket.create_connection(('127.0.0.1', $sshport), 1)\" 2>/dev/null" ||
	    atf_fail "sshd did not listen: $(cat ssh/log)"
}

# The ssh statement for a VM that bootstraps through this test's sshd.
ssh_stmt()
{
	echo "bootstrap ssh user \"root\" port $sshport key \"$PWD/ssh/user\""
}

# up.out says that every step of VM $1's bootstrap succeeded.
check_steps()
{
	for _step in wait-handshake connect transfer apply verify; do
		grep -q "^   - $1 $_step: success" up.out ||
		    atf_fail "no successful $_step: $(cat up.out)"
	done
}

# A field of the latest run log of VM $1, by a Python expression on l.
runlog_field()
{
	root=$(state_root)
	python3 - "$root/logs/bootstrap" "$1" "$2" <<'EOF2'
import json, os, sys
d, vm, expr = sys.argv[1:]
logs = [f for f in os.listdir(d) if f.startswith(vm + "-")]
logs.sort(key=lambda f: int(f[len(vm) + 1:].split("-")[0]))
l = json.load(open(os.path.join(d, logs[-1])))
print(eval(expr))
EOF2
}

nlogs()
{
	root=$(state_root)
	ls "$root/logs/bootstrap" 2>/dev/null | grep -c "^$1-" || true
}

stop_all()
{
	root=
	if [ -f project/castra.conf ]; then
		root=$("$(atf_config_get bindir)/castra" \
		    -c project/castra.conf status --json 2>/dev/null |
		    python3 -c 'import json, sys; \
print(json.load(sys.stdin)["state_root"])' 2>/dev/null)
	fi
	stop_projects
	[ -f ssh/mypid ] && kill "$(cat ssh/mypid)" 2>/dev/null
	# What the runs unpacked: /tmp/castra-bootstrap-<run id>.
	if [ -n "$root" ] && [ -d "$root/logs/bootstrap" ]; then
		for f in "$root"/logs/bootstrap/*.json; do
			[ -f "$f" ] || continue
			id=${f##*/}
			id=${id%.json}
			id=$(echo "$id" | sed 's/^.*-\([0-9]*-[0-9a-f]*\)$/\1/')
			rm -rf "/tmp/castra-bootstrap-$id"
		done
	fi
	return 0
}

atf_test_case plan_changes_nothing
plan_changes_nothing_head()
{
	atf_set "descr" "up --plan says per VM what would run and why," \
	    "starts no castrad and writes no state"
}
plan_changes_nothing_body()
{
	setup_project <<'EOF2'
vm "web" {
	image "castra-default"
	bootstrap dir "prov" timeout 42s verify "test -f /etc/motd"
	env "GREETING" "hello"
	env "OTHER" "x"
}
vm "db" {
	image "castra-default"
	count 2
	depends "web"
}
EOF2
	mkdir -p project/prov/payload/sub
	printf '#!/bin/sh\necho hi\n' >project/prov/run.sh
	chmod 755 project/prov/run.sh
	printf 'abcd' >project/prov/payload/sub/f
	atf_check -o save:plan.out -e empty $CASTRA up --plan
	for want in "web: would run" "    mode: auto (from castra.conf)" \
	    "    script: $PWD/project/prov/run.sh" \
	    "    payload: 2 files, 22 bytes" "    env: GREETING, OTHER" \
	    "    timeout: 42s" "    verify: test -f /etc/motd" \
	    "    transport: agent (the bus and fw_cfg)" \
	    "db-0: would skip" "db-1: would skip" \
	    "plan only: nothing was started or written"; do
		grep -qxF -- "$want" plan.out ||
		    atf_fail "no line '$want' in: $(cat plan.out)"
	done
	grep -A2 '^db-0' plan.out | grep -q 'no bootstrap dir' ||
	    atf_fail "db-0's reason is missing"

	# Overrides: global, then per VM over it.
	atf_check -o save:plan2.out $CASTRA up --plan --bootstrap skip \
	    --bootstrap db-1=auto
	grep -A1 '^web: would skip' plan2.out |
	    grep -qF 'mode: skip (from --bootstrap)' ||
	    atf_fail "--bootstrap skip did not reach web: $(cat plan2.out)"
	grep -A1 '^db-1: would skip' plan2.out |
	    grep -qF 'mode: auto (from --bootstrap vm=mode)' ||
	    atf_fail "db-1=auto did not win: $(cat plan2.out)"

	# always without a run.sh: an error, on stderr, exit 65.
	atf_check -s exit:65 -o save:plan3.out -e save:plan3.err \
	    $CASTRA up --plan --bootstrap always
	grep -qx 'db-0: would error' plan3.err ||
	    atf_fail "no error for db-0: $(cat plan3.err)"
	grep -q 'would fail' plan3.err || atf_fail "no summary"
	# The same without --plan stops before anything starts.
	atf_check -s exit:65 -o ignore -e match:"would fail" \
	    $CASTRA up --bootstrap always

	# Through the agent (fw_cfg), at most 2 MiB.
	head -c 3000000 /dev/zero >project/prov/payload/big
	atf_check -s exit:65 -o ignore -e match:"web: would error" \
	    -e match:"may take 2097152: use .bootstrap ssh." $CASTRA up --plan
	rm project/prov/payload/big

	[ -e home ] && atf_fail "the plan created $CASTRA_HOME: $(ls -R home)"
	return 0
}

atf_test_case unknown_vm
unknown_vm_head()
{
	atf_set "descr" "--bootstrap with an unknown VM or mode is a usage" \
	    "error (exit 64) naming the VMs, before anything starts"
}
unknown_vm_body()
{
	setup_project <<'EOF2'
vm "web" {
	image "castra-default"
}
vm "db" {
	image "castra-default"
	count 2
}
EOF2
	atf_check -s exit:64 -e match:'no VM "db" in this project' \
	    -e match:"its VMs are: web, db-0, db-1" \
	    $CASTRA up --bootstrap web=skip,db=auto
	atf_check -s exit:64 -e match:"the mode is auto, skip or always" \
	    $CASTRA up --bootstrap web=sometimes
	atf_check -s exit:64 -e match:"the mode is auto, skip or always" \
	    $CASTRA up --plan --bootstrap never
	[ -e home ] && atf_fail "a refused up created $CASTRA_HOME"
	return 0
}

atf_test_case ssh_success cleanup
ssh_success_head()
{
	atf_set "descr" "over ssh: run.sh gets the payload with its modes" \
	    "and env values intact, verify passes, a run log is written;" \
	    "a second up reports Castra:noop"
	atf_set "timeout" "240"
}
ssh_success_body()
{
	start_sshd
	mkdir -p out
	setup_project <<EOF2
vm "web" {
	image "castra-default"
	bootstrap dir "prov" timeout 60s verify "test -f \"\$OUT/marker\""
	$(ssh_stmt)
	env "OUT" "$PWD/out"
	env "SPACES" "two  words and a	tab"
	env "QUOTES" "it's \"quoted\""
	env "DOLLAR" "\$HOME and \$(id) and \`id\` and \\\\back\\\\slash"
}
EOF2
	mkdir -p project/prov/payload/sub
	cat >project/prov/run.sh <<'EOF2'
#!/bin/sh
set -e
if [ -f "$OUT/marker" ]; then
	echo "already done"
	echo "Castra:noop"
	exit 0
fi
printf '%s\n' "$SPACES" "$QUOTES" "$DOLLAR" >"$OUT/env"
printf '%s\n' "$CASTRA_VM" "$CASTRA_RUN_ID" >"$OUT/ids"
stat -c %a "$CASTRA_PAYLOAD_DIR/sub/tool" >"$OUT/mode"
cp "$CASTRA_PAYLOAD_DIR/sub/tool" "$OUT/tool"
touch "$OUT/marker"
echo "installed"
EOF2
	chmod 755 project/prov/run.sh
	printf 'tool bytes\n' >project/prov/payload/sub/tool
	chmod 751 project/prov/payload/sub/tool

	atf_check -o save:up.out -e ignore $CASTRA up
	check_steps web
	grep -q "web: bootstrap completed in" up.out ||
	    atf_fail "not completed: $(cat up.out)"
	grep -q "no changes" up.out && atf_fail "a first run was a noop"

	printf '%s\n' "two  words and a	tab" "it's \"quoted\"" \
	    "\$HOME and \$(id) and \`id\` and \\back\\slash" >want.env
	cmp -s want.env out/env ||
	    atf_fail "env differs: $(cat out/env), wanted $(cat want.env)"
	[ "$(sed -n 1p out/ids)" = web ] || atf_fail "CASTRA_VM is wrong"
	id=$(sed -n 2p out/ids)
	[ "$(cat out/mode)" = 751 ] || atf_fail "mode $(cat out/mode)"
	cmp -s out/tool project/prov/payload/sub/tool ||
	    atf_fail "the payload changed on its way"

	[ "$(runlog_field web "l['status']")" = success ] ||
	    atf_fail "the run log does not say success"
	[ "$(runlog_field web "l['run_id']")" = "$id" ] ||
	    atf_fail "the run log is of another run"
	[ "$(runlog_field web "','.join(s['step'] + '=' + s['status'] \
for s in l['steps'])")" = \
"wait-handshake=success,connect=success,transfer=success,apply=success,\
verify=success" ] || atf_fail "steps: $(runlog_field web "l['steps']")"

	# The same boot again: run.sh says it changed nothing.
	atf_check -o save:up2.out -e ignore $CASTRA up
	grep -q "web: bootstrap completed in .*no changes" up2.out ||
	    atf_fail "no noop: $(cat up2.out)"
	[ "$(nlogs web)" = 2 ] || atf_fail "$(nlogs web) run logs, not 2"
	atf_check -o match:'"status": "noop"' -o match:"^\[web\] .*/logs/" \
	    $CASTRA logs --bootstrap web
	atf_check -s exit:64 -e match:"no such VM" $CASTRA logs --bootstrap x
}
ssh_success_cleanup()
{
	stop_all
}

atf_test_case ssh_failure cleanup
ssh_failure_head()
{
	atf_set "descr" "a failing run.sh fails up with exit 70, the step" \
	    "and the last lines of its output, in the message and the run" \
	    "log; the VM stays up and down still cleans up"
	atf_set "timeout" "240"
}
ssh_failure_body()
{
	start_sshd
	setup_project <<EOF2
vm "web" {
	image "castra-default"
	bootstrap dir "prov" verify "true"
	$(ssh_stmt)
}
EOF2
	mkdir -p project/prov
	cat >project/prov/run.sh <<'EOF2'
#!/bin/sh
i=0
while [ $i -lt 30 ]; do echo "line $i"; i=$((i + 1)); done
printf 'bad \033[31mescape\n'
echo "the last words" >&2
exit 3
EOF2
	chmod 755 project/prov/run.sh
	atf_check -s exit:70 -o save:up.out -e save:up.err $CASTRA up
	grep -q "bootstrap of web failed at step apply: run.sh exited 3" \
	    up.err || atf_fail "no step in: $(cat up.err)"
	grep -q "^the last words" up.err || atf_fail "no tail: $(cat up.err)"
	grep -q "^line 29" up.err || atf_fail "no tail: $(cat up.err)"
	grep -q "^line 5$" up.err && atf_fail "more than the last lines"
	grep -q "$(printf '\033')" up.err &&
	    atf_fail "an escape from the guest reached the terminal"
	grep -q "^   - web verify" up.out && atf_fail "verify ran after failure"
	[ "$(runlog_field web "l['status']")" = failed ] ||
	    atf_fail "the run log does not say failed"
	runlog_field web "l['output_tail']" | grep -q "the last words" ||
	    atf_fail "no output tail in the run log"
	[ "$(runlog_field web "l['steps'][-1]['step']")" = apply ] ||
	    atf_fail "the run log's last step is not apply"
	[ "$(status_field "s['vms'][0]['state']")" = running ] ||
	    atf_fail "the VM did not stay up"
	atf_check -o match:"web: stopped" -o ignore $CASTRA down
	[ "$(status_field "s['vms'][0]['state']")" = stopped ] ||
	    atf_fail "down did not stop the VM"
}
ssh_failure_cleanup()
{
	stop_all
}

atf_test_case ssh_timeout cleanup
ssh_timeout_head()
{
	atf_set "descr" "a run.sh that outlives its timeout is stopped and" \
	    "up fails with exit 70 at step apply"
	atf_set "timeout" "240"
}
ssh_timeout_body()
{
	start_sshd
	setup_project <<EOF2
vm "web" {
	image "castra-default"
	bootstrap dir "prov" timeout 2s
	$(ssh_stmt)
	env "OUT" "$PWD"
}
EOF2
	mkdir -p project/prov
	cat >project/prov/run.sh <<'EOF2'
#!/bin/sh
echo "starting"
sleep 120
touch "$OUT/not-killed"
EOF2
	chmod 755 project/prov/run.sh
	atf_check -s exit:70 -o ignore -e save:up.err $CASTRA up
	grep -q "failed at step apply: timed out after 2s" up.err ||
	    atf_fail "no timeout: $(cat up.err)"
	grep -q "^starting" up.err || atf_fail "no tail: $(cat up.err)"
	[ "$(runlog_field web "l['status']")" = failed ] ||
	    atf_fail "the run log does not say failed"
}
ssh_timeout_cleanup()
{
	stop_all
}

atf_test_case overrides cleanup
overrides_head()
{
	atf_set "descr" "--bootstrap skip runs nothing; a per-VM mode beats" \
	    "the global one"
	atf_set "timeout" "240"
}
overrides_body()
{
	start_sshd
	setup_project <<EOF2
vm "web" {
	image "castra-default"
	bootstrap dir "prov"
	$(ssh_stmt)
}
EOF2
	mkdir -p project/prov
	printf '#!/bin/sh\necho ran; exit 9\n' >project/prov/run.sh
	chmod 755 project/prov/run.sh
	atf_check -o save:up.out -e ignore $CASTRA up --bootstrap skip
	grep -q bootstrap up.out && atf_fail "skip ran: $(cat up.out)"
	[ "$(nlogs web)" = 0 ] || atf_fail "skip wrote a run log"
	atf_check -s exit:70 -o match:"web: bootstrap started \(ssh always\)" \
	    -e match:"run.sh exited 9" \
	    $CASTRA up --bootstrap skip --bootstrap web=always
	[ "$(nlogs web)" = 1 ] || atf_fail "$(nlogs web) run logs, not 1"

	# A key that sshd refuses fails connect at once, not after 30 s.
	ssh-keygen -q -t ed25519 -N '' -f ssh/stranger ||
	    atf_fail "ssh-keygen stranger"
	sed -i "s|key \"$PWD/ssh/user\"|key \"$PWD/ssh/stranger\"|" \
	    project/castra.conf
	start=$(date +%s)
	atf_check -s exit:70 -o ignore -e match:"failed at step connect" \
	    -e match:"Permission denied" $CASTRA up
	[ $(($(date +%s) - start)) -lt 20 ] ||
	    atf_fail "a refused key took until the connect deadline"
}
overrides_cleanup()
{
	stop_all
}

atf_test_case depends_order cleanup
depends_order_head()
{
	atf_set "descr" "a VM's bootstrap waits for those of the VMs it" \
	    "depends on, and does not run when one of them failed"
	atf_set "timeout" "300"
}
depends_order_body()
{
	start_sshd
	mkdir -p out
	setup_project <<EOF2
vm "db" {
	image "castra-default"
	bootstrap dir "prov"
	$(ssh_stmt)
	env "OUT" "$PWD/out"
}
vm "web" {
	image "castra-default"
	bootstrap dir "prov"
	$(ssh_stmt)
	env "OUT" "$PWD/out"
	depends "db"
}
EOF2
	mkdir -p project/prov
	cat >project/prov/run.sh <<'EOF2'
#!/bin/sh
[ "$CASTRA_VM" = db ] && [ -f "$OUT/fail-db" ] && { echo "db broke"; exit 4; }
[ "$CASTRA_VM" = db ] && sleep 1
echo "$CASTRA_VM" >>"$OUT/order"
EOF2
	chmod 755 project/prov/run.sh
	atf_check -o save:up.out -e ignore $CASTRA up
	printf 'db\nweb\n' >want.order
	cmp -s want.order out/order ||
	    atf_fail "order: $(cat out/order); output: $(cat up.out)"
	a=$(grep -n "^db: bootstrap completed" up.out | cut -d: -f1)
	b=$(grep -n "^web: bootstrap started" up.out | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
	    atf_fail "web started before db completed: $(cat up.out)"

	touch out/fail-db
	atf_check -s exit:70 -o save:up2.out -e match:"bootstrap of db failed" \
	    $CASTRA up
	grep -q "^   - web wait-handshake: failed .*not run: db, which it \
depends on, failed" up2.out || atf_fail "web ran: $(cat up2.out)"
	[ "$(wc -l <out/order)" = 2 ] || atf_fail "web ran after db failed"
}
depends_order_cleanup()
{
	stop_all
}

atf_test_case agent_success cleanup
agent_success_head()
{
	atf_set "descr" "through the agent: the tar reaches the guest by" \
	    "fw_cfg, run.sh and verify run there, a second up is a noop," \
	    "a changed bootstrap is refused until the next boot"
	atf_set "timeout" "240"
}
agent_success_body()
{
	setup_project <<'EOF2'
vm "web" {
	image "castra-default"
	bootstrap dir "prov" timeout 30s verify "test -s /tmp/bs-marker"
	env "GREETING" "hello there"
}
EOF2
	mkdir -p project/prov/payload
	cat >project/prov/run.sh <<'EOF2'
#!/bin/sh
if [ -f /tmp/bs-marker ]; then
	echo "Castra:noop"
	exit 0
fi
cat "$CASTRA_PAYLOAD_DIR/p" >/tmp/bs-marker
echo "$GREETING from $CASTRA_VM"
EOF2
	chmod 755 project/prov/run.sh
	printf 'payload bytes\n' >project/prov/payload/p
	atf_check -o save:up.out -e ignore $CASTRA up
	check_steps web
	grep -q "web: bootstrap started (agent auto)" up.out ||
	    atf_fail "not through the agent: $(cat up.out)"
	root=$(state_root)
	[ "$(runlog_field web "l['status']")" = success ] ||
	    atf_fail "the run log does not say success"

	# The tar went to QEMU as fw_cfg opt/castra/bootstrap, intact:
	# castra-vmm's copy, as a descriptor.
	python3 -c "import json, sys; \
a = json.load(open('$root/vms/web.json'))['argv']; \
p = 'name=opt/castra/bootstrap,file=/proc/self/fd/'; \
sys.exit(0 if [x for x in a if x.startswith(p)] else 1)" ||
	    atf_fail "no fw_cfg bootstrap in QEMU's argv"
	tar -t -v -f "$root/run/web-bootstrap.tar" >tar.list ||
	    atf_fail "run/web-bootstrap.tar is not a tar"
	grep -q '^-rwxr-xr-x .* run.sh$' tar.list || atf_fail "$(cat tar.list)"

	atf_check -o match:"web: bootstrap completed in .*no changes" \
	    -e ignore $CASTRA up

	# fw_cfg holds this boot's tar: a changed one must wait for a boot.
	echo "# changed" >>project/prov/run.sh
	atf_check -s exit:70 -o ignore \
	    -e match:"failed at step transfer: fw_cfg holds the bootstrap" \
	    $CASTRA up
	atf_check -o ignore $CASTRA down
	[ -e "$root/run/web-bootstrap.tar" ] && atf_fail "down left the tar"
	return 0
}
agent_success_cleanup()
{
	stop_all
}

atf_test_case agent_failure cleanup
agent_failure_head()
{
	atf_set "descr" "through the agent: env values arrive intact; a" \
	    "failing run.sh fails up with exit 70 and its last lines"
	atf_set "timeout" "240"
}
agent_failure_body()
{
	setup_project <<'EOF2'
vm "web" {
	image "castra-default"
	bootstrap dir "prov" verify "true"
	env "SPACES" "two  words"
	env "QUOTES" "it's \"quoted\""
	env "DOLLAR" "$HOME and $(id) and `id` and \\back\\slash"
}
EOF2
	mkdir -p project/prov
	cat >project/prov/run.sh <<'EOF2'
#!/bin/sh
printf '[%s]\n' "$SPACES" "$QUOTES" "$DOLLAR"
echo "failing now" >&2
exit 3
EOF2
	chmod 755 project/prov/run.sh
	atf_check -s exit:70 -o save:up.out -e save:up.err $CASTRA up
	grep -q "bootstrap of web failed at step apply: run.sh exited 3" \
	    up.err || atf_fail "no step: $(cat up.err)"
	for want in "[two  words]" "[it's \"quoted\"]" \
	    "[\$HOME and \$(id) and \`id\` and \\back\\slash]" "failing now"
	do
		grep -qxF -- "$want" up.err ||
		    atf_fail "no line $want in: $(cat up.err)"
	done
	grep -q "^   - web verify" up.out && atf_fail "verify ran after failure"
	runlog_field web "l['output_tail']" | grep -q "failing now" ||
	    atf_fail "no output tail in the run log"
	[ "$(status_field "s['vms'][0]['state']")" = running ] ||
	    atf_fail "the VM did not stay up"
}
agent_failure_cleanup()
{
	stop_all
}

atf_test_case agent_timeout cleanup
agent_timeout_head()
{
	atf_set "descr" "through the agent: run.sh is killed at its timeout"
	atf_set "timeout" "240"
}
agent_timeout_body()
{
	setup_project <<'EOF2'
vm "web" {
	image "castra-default"
	bootstrap dir "prov" timeout 2s
}
EOF2
	mkdir -p project/prov
	printf '#!/bin/sh\necho started\nsleep 60\n' >project/prov/run.sh
	chmod 755 project/prov/run.sh
	start=$(date +%s)
	atf_check -s exit:70 -o ignore -e save:up.err $CASTRA up
	grep -q "failed at step apply: timed out after 2s" up.err ||
	    atf_fail "no timeout: $(cat up.err)"
	grep -q "^started" up.err || atf_fail "no tail: $(cat up.err)"
	[ $(($(date +%s) - start)) -lt 60 ] || atf_fail "not killed in time"
}
agent_timeout_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case plan_changes_nothing
	atf_add_test_case unknown_vm
	atf_add_test_case ssh_success
	atf_add_test_case ssh_failure
	atf_add_test_case ssh_timeout
	atf_add_test_case overrides
	atf_add_test_case depends_order
	atf_add_test_case agent_success
	atf_add_test_case agent_failure
	atf_add_test_case agent_timeout
}
