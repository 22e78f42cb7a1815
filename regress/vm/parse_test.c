/*
 * castra-vmm's parsers and helpers, linked from its own objects: the
 * readers of castrad's requests, the /proc stat parser, the VM record,
 * QMP lines, the command line, overlays and identity checks.  Hostile
 * input first: every reader must refuse it, never trust it.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <atf-c.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"

static void
good_start(struct vmm_start *vs)
{
	memset(vs, 0, sizeof(*vs));
	strlcpy(vs->vs_project, "proj-0123", sizeof(vs->vs_project));
	strlcpy(vs->vs_name, "web.1", sizeof(vs->vs_name));
	memset(vs->vs_token, 'a', TOKEN_HEX_LEN);
	memset(vs->vs_disk, 'b', SHA256_HEX_LEN);
	memset(vs->vs_kernel, 'c', SHA256_HEX_LEN);
	memset(vs->vs_initrd, 'd', SHA256_HEX_LEN);
	strlcpy(vs->vs_cmdline, "console=ttyS0 a,b", sizeof(vs->vs_cmdline));
	vs->vs_cpus = 2;
	vs->vs_memory_mib = 256;
	vs->vs_broker_port = 7070;
	vs->vs_nforwards = 1;
	vs->vs_forwards[0].cf_proto = FORWARD_TCP;
	vs->vs_forwards[0].cf_host = 2222;
	vs->vs_forwards[0].cf_guest = 22;
}

static int
read_start(struct vmm_start *vs)
{
	struct vmm_start	 out;

	return (vmm_read_start(vs, sizeof(*vs), &out));
}

ATF_TC_WITHOUT_HEAD(start_request);
ATF_TC_BODY(start_request, tc)
{
	struct vmm_start	 vs, out;

	good_start(&vs);
	ATF_CHECK_EQ(read_start(&vs), 0);
	ATF_CHECK_EQ(vmm_read_start(&vs, sizeof(vs) - 1, &out), -1);
	ATF_CHECK_EQ(vmm_read_start(&vs, 0, &out), -1);

	/* Every string is cut at its size, never read past it. */
	good_start(&vs);
	memset(vs.vs_cmdline, 'x', sizeof(vs.vs_cmdline));
	ATF_CHECK_EQ(vmm_read_start(&vs, sizeof(vs), &out), 0);
	ATF_CHECK_EQ(strlen(out.vs_cmdline), sizeof(out.vs_cmdline) - 1);

	good_start(&vs);
	strlcpy(vs.vs_name, "../etc", sizeof(vs.vs_name));
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_name[0] = '\0';
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	strlcpy(vs.vs_project, "a/b", sizeof(vs.vs_project));
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_disk[10] = 'g';
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_disk[0] = '\0';
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_token[TOKEN_HEX_LEN - 1] = '\0';
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_kernel[0] = '\0';
	ATF_CHECK_EQ(read_start(&vs), -1);	/* an initrd without kernel */
	good_start(&vs);
	vs.vs_cpus = 0;
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_memory_mib = 0xffffffff;
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_broker_port = 0;
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_nforwards = CONFIG_FORWARDS_MAX + 1;
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	strlcpy(vs.vs_forwards[0].cf_bind, "0.0.0.0,hostfwd=tcp::1-:2",
	    sizeof(vs.vs_forwards[0].cf_bind));
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_forwards[0].cf_proto = 7;
	ATF_CHECK_EQ(read_start(&vs), -1);
	good_start(&vs);
	vs.vs_forwards[0].cf_host = 0;
	ATF_CHECK_EQ(read_start(&vs), -1);
}

ATF_TC_WITHOUT_HEAD(stop_and_vm_requests);
ATF_TC_BODY(stop_and_vm_requests, tc)
{
	struct vmm_stop	 st, sout;
	struct vmm_vm	 vv, vout;

	memset(&st, 0, sizeof(st));
	strlcpy(st.vs_project, "p", sizeof(st.vs_project));
	strlcpy(st.vs_name, "v", sizeof(st.vs_name));
	st.vs_wait_graceful = 20;
	ATF_CHECK_EQ(vmm_read_stop(&st, sizeof(st), &sout), 0);
	ATF_CHECK_EQ(vmm_read_stop(&st, sizeof(st) + 1, &sout), -1);
	st.vs_wait_sigkill = 0xffffffff;
	ATF_CHECK_EQ(vmm_read_stop(&st, sizeof(st), &sout), -1);
	st.vs_wait_sigkill = 0;
	strlcpy(st.vs_name, "-v", sizeof(st.vs_name));
	ATF_CHECK_EQ(vmm_read_stop(&st, sizeof(st), &sout), -1);

	memset(&vv, 'A', sizeof(vv));
	strlcpy(vv.vv_project, "p", sizeof(vv.vv_project));
	ATF_CHECK_EQ(vmm_read_vm(&vv, sizeof(vv), &vout), 0);
	ATF_CHECK_EQ(strlen(vout.vv_name), sizeof(vout.vv_name) - 1);
	vv.vv_name[0] = '.';
	ATF_CHECK_EQ(vmm_read_vm(&vv, sizeof(vv), &vout), -1);
}

static int
parse_stat(const char *s, uint64_t *st)
{
	return (qemu_parse_stat(s, strlen(s), st));
}

ATF_TC_WITHOUT_HEAD(proc_stat);
ATF_TC_BODY(proc_stat, tc)
{
	uint64_t	 st;

	ATF_CHECK_EQ(parse_stat("42 (qemu-system-x86) S 1 42 42 0 -1 4194560 "
	    "1 2 3 4 5 6 7 8 20 0 3 0 987654 1000 100 18446744073709551615",
	    &st), 0);
	ATF_CHECK_EQ(st, 987654);
	/* A command name made to look like fields. */
	ATF_CHECK_EQ(parse_stat("7 (a) 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
	    "17 18 19 20) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 1 1\n",
	    &st), 0);
	ATF_CHECK_EQ(st, 555);
	ATF_CHECK_EQ(parse_stat("", &st), -1);
	ATF_CHECK_EQ(parse_stat("1 (x", &st), -1);
	ATF_CHECK_EQ(parse_stat("1 (x) S 1 2 3", &st), -1);
	ATF_CHECK_EQ(parse_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
	    "12x 1", &st), -1);
	ATF_CHECK_EQ(parse_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
	    "99999999999999999999999 1", &st), -1);
	ATF_CHECK_EQ(parse_stat("1 (x)  S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 "
	    "0 5 1", &st), -1);
	ATF_CHECK_EQ(qemu_starttime(getpid(), &st), 0);
	ATF_CHECK(st > 0);
}

static struct vmm_guest *
guest(const char *name)
{
	static struct vmm_guest	 vm;

	qemu_argv_free(&vm);
	memset(&vm, 0, sizeof(vm));
	strlcpy(vm.vm_name, name, sizeof(vm.vm_name));
	return (&vm);
}

static int
parse_record(const char *name, const char *json)
{
	struct vmm_guest	*vm = guest(name);
	int			 rc;

	rc = record_parse(json, strlen(json), vm);
	qemu_argv_free(vm);
	return (rc);
}

#define REC(name, pid, argv, accel, fwd)				\
	"{\"name\":\"" name "\",\"pid\":" pid ",\"start_time\":5,"	\
	"\"argv\":" argv ",\"accel\":\"" accel "\",\"cpus\":1,"		\
	"\"memory_mib\":256,\"forwards\":" fwd ",\"state\":\"running\"}"

ATF_TC_WITHOUT_HEAD(record);
ATF_TC_BODY(record, tc)
{
	struct vmm_guest	*vm;
	const char		*ok = REC("v", "9", "[\"q\",\"-name\"]", "tcg",
	    "[{\"proto\":\"udp\",\"bind\":\"127.0.0.1\",\"host\":53,"
	    "\"guest\":53}]");

	vm = guest("v");
	ATF_REQUIRE_EQ(record_parse(ok, strlen(ok), vm), 0);
	ATF_CHECK_EQ(vm->vm_pid, 9);
	ATF_CHECK_EQ(vm->vm_starttime, 5);
	ATF_CHECK_EQ(vm->vm_argc, 2);
	ATF_CHECK_STREQ(vm->vm_argv[1], "-name");
	ATF_CHECK_EQ(vm->vm_nforwards, 1);
	ATF_CHECK_EQ(vm->vm_forwards[0].cf_proto, FORWARD_UDP);
	qemu_argv_free(vm);

	ATF_CHECK_EQ(parse_record("w", ok), -1);	/* someone else's */
	ATF_CHECK_EQ(parse_record("v", REC("v", "-1", "[\"q\"]", "tcg", "[]")),
	    -1);
	ATF_CHECK_EQ(parse_record("v", REC("v", "1", "[1]", "tcg", "[]")), -1);
	ATF_CHECK_EQ(parse_record("v", REC("v", "1", "[]", "tcg", "[]")), -1);
	ATF_CHECK_EQ(parse_record("v", REC("v", "1", "[\"q\"]", "xen", "[]")),
	    -1);
	ATF_CHECK_EQ(parse_record("v", REC("v", "1", "[\"q\"]", "tcg",
	    "[{\"proto\":\"tcp\",\"bind\":\"127.0.0.1\",\"host\":0,"
	    "\"guest\":1}]")), -1);
	ATF_CHECK_EQ(parse_record("v", REC("v", "1", "{}", "tcg", "[]")), -1);
	ATF_CHECK_EQ(parse_record("v", "{\"name\":\"v\",\"name\":\"v\"}"), -1);
	ATF_CHECK_EQ(parse_record("v", "[]"), -1);
	ATF_CHECK_EQ(parse_record("v", "{\"name\":"), -1);
	ATF_CHECK_EQ(parse_record("v", ""), -1);
}

static int
qmp_kind(const char *line)
{
	int	 kind;

	if (qmp_parse_line(line, strlen(line), &kind) == -1)
		return (-1);
	return (kind);
}

ATF_TC_WITHOUT_HEAD(qmp_lines);
ATF_TC_BODY(qmp_lines, tc)
{
	ATF_CHECK_EQ(qmp_kind("{\"QMP\":{\"version\":{},\"capabilities\":[]}}"),
	    QMP_MSG_GREETING);
	ATF_CHECK_EQ(qmp_kind("{\"return\":{}}"), QMP_MSG_RETURN);
	ATF_CHECK_EQ(qmp_kind("{\"error\":{\"class\":\"x\",\"desc\":\"y\"}}"),
	    QMP_MSG_ERROR);
	ATF_CHECK_EQ(qmp_kind("{\"event\":\"POWERDOWN\",\"timestamp\":{}}"),
	    QMP_MSG_EVENT);
	ATF_CHECK_EQ(qmp_kind("{\"QMP\":1}"), -1);
	ATF_CHECK_EQ(qmp_kind("{\"event\":5}"), -1);
	ATF_CHECK_EQ(qmp_kind("[\"return\"]"), -1);
	ATF_CHECK_EQ(qmp_kind("{}"), -1);
	ATF_CHECK_EQ(qmp_kind("{\"return\":{}"), -1);
	ATF_CHECK_EQ(qmp_kind(""), -1);
}

/* Our own command line, as castra-vmm would have recorded it. */
static int
self_argv(char **argv, int max)
{
	static char	 buf[65536];
	ssize_t		 n;
	int		 fd, argc = 0;
	char		*p;

	ATF_REQUIRE((fd = open("/proc/self/cmdline", O_RDONLY)) != -1);
	ATF_REQUIRE((n = read(fd, buf, sizeof(buf))) > 0);
	close(fd);
	for (p = buf; p < buf + n && argc < max; p += strlen(p) + 1)
		argv[argc++] = p;
	return (argc);
}

ATF_TC_WITHOUT_HEAD(identity);
ATF_TC_BODY(identity, tc)
{
	char		*argv[64], *other[64];
	uint64_t	 st;
	int		 argc;

	argc = self_argv(argv, 64);
	ATF_REQUIRE_EQ(qemu_starttime(getpid(), &st), 0);
	ATF_CHECK_EQ(qemu_identity(getpid(), st, argv, argc), 1);
	ATF_CHECK_EQ(qemu_identity(getpid(), st + 1, argv, argc), 0);
	ATF_CHECK_EQ(qemu_identity(getpid(), st, argv, argc - 1), 0);
	memcpy(other, argv, sizeof(argv[0]) * argc);
	other[0] = "/usr/bin/qemu-system-x86_64";
	ATF_CHECK_EQ(qemu_identity(getpid(), st, other, argc), 0);
	ATF_CHECK_EQ(qemu_identity(1, st, argv, argc), 0);
	ATF_CHECK_EQ(qemu_identity(INT_MAX, st, argv, argc), 0);
}

ATF_TC_WITHOUT_HEAD(command_line);
ATF_TC_BODY(command_line, tc)
{
	struct vmm_start	 vs;
	struct vmm_guest	*vm = guest("web.1");
	char			 all[8192] = "";
	int			 i;

	good_start(&vs);
	strlcpy(vm->vm_accel, "tcg", sizeof(vm->vm_accel));
	ATF_REQUIRE_EQ(qemu_argv(vm, &vs, "/h"), 0);
	for (i = 0; i < vm->vm_argc; i++) {
		strlcat(all, vm->vm_argv[i], sizeof(all));
		strlcat(all, "\n", sizeof(all));
	}
	/* QEMU names nothing below the state root: castra-vmm's fds. */
	ATF_CHECK(strstr(all, "\n-add-fd\nfd=4,set=1\n-add-fd\nfd=5,set=1\n"
	    "-add-fd\nfd=6,set=2\n"));
	ATF_CHECK(strstr(all,
	    "\n-chardev\nsocket,id=qmp,fd=7,server=on,wait=off\n"));
	ATF_CHECK(strstr(all, "\n-serial\nfile:/dev/fdset/2\n"));
	ATF_CHECK(strstr(all,
	    "\nfile=/dev/fdset/1,if=virtio,format=qcow2\n"));
	ATF_CHECK(strstr(all, "hostfwd=tcp:127.0.0.1:2222-:22\n"));
	ATF_CHECK(strstr(all,
	    "\nname=opt/castra/token,file=/proc/self/fd/8\n"));
	ATF_CHECK(strstr(all, "run/") == NULL);
	ATF_CHECK(strstr(all, "logs/") == NULL);
	ATF_CHECK(strstr(all, "overlays/") == NULL);
	ATF_CHECK(strstr(all, "\n-kernel\n/h/images/sha256/cccc"));
	ATF_CHECK(strstr(all, "\n-append\nconsole=ttyS0 a,b\n"));
	ATF_CHECK(strstr(all, "\n-display\nnone\n-no-reboot\n"));
	ATF_CHECK(strstr(all, "elevateprivileges=deny,spawn=deny"));
	ATF_CHECK(strstr(all, "\ntcg,tb-size=32\n"));
	ATF_CHECK(strstr(all, vs.vs_token) == NULL);
	qemu_argv_free(vm);
}

ATF_TC_WITHOUT_HEAD(tail);
ATF_TC_BODY(tail, tc)
{
	char	 buf[512];
	FILE	*fp;
	int	 i, dirfd;

	ATF_REQUIRE((fp = fopen("log", "w")) != NULL);
	for (i = 0; i < 20; i++)
		fprintf(fp, "line %d\n", i);
	fputs("bell\a\033[0m end\n\n", fp);
	fclose(fp);
	ATF_REQUIRE((dirfd = open(".", O_RDONLY | O_DIRECTORY)) != -1);
	ATF_REQUIRE_EQ(qemu_tail(dirfd, "log", buf, sizeof(buf)), 0);
	ATF_CHECK(strncmp(buf, "line 13\n", 8) == 0);
	ATF_CHECK(strstr(buf, "line 12") == NULL);
	ATF_CHECK(strstr(buf, "bell??[0m end") != NULL);
	ATF_REQUIRE_EQ(qemu_tail(dirfd, "log", buf, 10), 0);
	ATF_CHECK_STREQ(buf, "??[0m end");
	ATF_CHECK_EQ(qemu_tail(dirfd, "none", buf, sizeof(buf)), -1);
	close(dirfd);
}

ATF_TC_WITHOUT_HEAD(overlay);
ATF_TC_BODY(overlay, tc)
{
	char		 cwd[PATH_MAX], base[PATH_MAX + 16], err[256];
	struct stat	 st, rost;
	uint64_t	 bytes;
	int		 dirfd, fd, rofd;

	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	ATF_REQUIRE_EQ(mkdir("overlays", 0755), 0);
	ATF_REQUIRE_EQ(system("qemu-img create -q -f qcow2 base.qcow2 16M"),
	    0);
	snprintf(base, sizeof(base), "%s/base.qcow2", cwd);
	ATF_REQUIRE((dirfd = open(".", O_RDONLY | O_DIRECTORY)) != -1);
	/*
	 * A stale overlay is replaced, not reused; a link in its place is
	 * removed, and the file it named is left as it was.
	 */
	ATF_REQUIRE_EQ(system("echo stale > stale && "
	    "ln stale overlays/v.qcow2"), 0);
	ATF_REQUIRE((fd = overlay_create(dirfd, "v", base, &rofd, err,
	    sizeof(err))) != -1);
	ATF_CHECK_EQ(system("grep -qx stale stale"), 0);
	ATF_CHECK_EQ(system("qemu-img info overlays/v.qcow2 | "
	    "grep -q 'backing file: .*/base.qcow2'"), 0);
	/* Both descriptors are the new overlay's. */
	ATF_REQUIRE_EQ(stat("overlays/v.qcow2", &st), 0);
	ATF_REQUIRE_EQ(fstat(rofd, &rost), 0);
	ATF_CHECK_EQ(st.st_ino, rost.st_ino);
	ATF_CHECK_EQ(fcntl(rofd, F_GETFL) & O_ACCMODE, O_RDONLY);
	ATF_REQUIRE_EQ(fstat(fd, &rost), 0);
	ATF_CHECK_EQ(st.st_ino, rost.st_ino);
	ATF_CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	close(fd);
	close(rofd);
	ATF_CHECK_EQ(overlay_remove(dirfd, "v", &bytes), 0);
	ATF_CHECK(bytes > 0);
	ATF_CHECK(access("overlays/v.qcow2", F_OK) == -1);
	ATF_CHECK_EQ(overlay_remove(dirfd, "v", &bytes), 0);
	ATF_CHECK_EQ(bytes, 0);

	ATF_CHECK_EQ(overlay_create(dirfd, "v", "/nonexistent/base.qcow2",
	    &rofd, err, sizeof(err)), -1);
	ATF_CHECK(strstr(err, "nonexistent") != NULL);
	close(dirfd);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, start_request);
	ATF_TP_ADD_TC(tp, stop_and_vm_requests);
	ATF_TP_ADD_TC(tp, proc_stat);
	ATF_TP_ADD_TC(tp, record);
	ATF_TP_ADD_TC(tp, qmp_lines);
	ATF_TP_ADD_TC(tp, identity);
	ATF_TP_ADD_TC(tp, command_line);
	ATF_TP_ADD_TC(tp, tail);
	ATF_TP_ADD_TC(tp, overlay);
	return (atf_no_error());
}
