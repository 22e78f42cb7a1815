/*
 * sandbox_enter() in a forked child: what it allows, what it kills,
 * what -S reports, and what the kernel says of the child afterwards.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "sandbox.h"

#define NOBODY		65534
#define WAIT_MS		10000

struct child {
	pid_t	 c_pid;
	int	 c_out;		/* what the child reports */
	int	 c_in;		/* closing it lets the child go on */
};

typedef void	(*child_fn)(int, int);
typedef void	(*child_pre)(void);

static const int small_list[] = {
	SCMP_SYS(getppid),
};

static const int open_list[] = {
	SCMP_SYS(openat),
	SCMP_SYS(socket),
	SCMP_SYS(connect),
};

/* An ordinary user, to see the Landlock side as root. */
static void
become_nobody(void)
{
	gid_t	 gid = NOBODY;

	if (getuid() == 0 &&
	    (setgroups(1, &gid) == -1 ||
	    setresgid(NOBODY, NOBODY, NOBODY) == -1 ||
	    setresuid(NOBODY, NOBODY, NOBODY) == -1))
		_exit(91);
}

/*
 * Fork a child that runs pre (if given), enters sb and runs fn with the
 * write end of one pipe and the read end of another.  stderr goes to
 * errpath if given.
 */
static void
child_start(struct child *c, const struct sandbox *sb, child_fn fn,
    const char *errpath, child_pre pre)
{
	int	 out[2], in[2], fd;

	ATF_REQUIRE(pipe(out) == 0 && pipe(in) == 0);
	ATF_REQUIRE((c->c_pid = fork()) != -1);
	if (c->c_pid == 0) {
		close(out[0]);
		close(in[1]);
		if (errpath != NULL) {
			if ((fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC,
			    0644)) == -1 || dup2(fd, STDERR_FILENO) == -1)
				_exit(90);
			close(fd);
		}
		proc_env.pe_debug = 1;
		log_init(1, LOG_DAEMON);
		log_procinit("sandbox_test");
		if (pre != NULL)
			pre();
		sandbox_enter(sb);
		fn(out[1], in[0]);
		_exit(0);
	}
	close(out[1]);
	close(in[0]);
	c->c_out = out[0];
	c->c_in = in[1];
}

/* Wait for the child with a bounded poll; kill it if it overstays. */
static int
child_wait(struct child *c)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	pid_t		 pid;
	int		 status, i;

	close(c->c_in);
	for (i = 0; i < WAIT_MS / 10; i++) {
		ATF_REQUIRE((pid = waitpid(c->c_pid, &status, WNOHANG)) != -1);
		if (pid == c->c_pid) {
			close(c->c_out);
			return (status);
		}
		nanosleep(&ts, NULL);
	}
	kill(c->c_pid, SIGKILL);
	waitpid(c->c_pid, &status, 0);
	close(c->c_out);
	atf_tc_fail("child %d did not exit within %d ms", (int)c->c_pid,
	    WAIT_MS);
	return (-1);
}

static long
child_read(struct child *c)
{
	long	 v;

	ATF_REQUIRE_EQ(read(c->c_out, &v, sizeof(v)), (ssize_t)sizeof(v));
	return (v);
}

static void
report(int fd, long v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		_exit(92);
}

static void
sandbox_small(struct sandbox *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->sb_name = "sandbox_test";
	sb->sb_syscalls = small_list;
	sb->sb_nsyscalls = sizeof(small_list) / sizeof(small_list[0]);
}

static void
skip_relaxed(void)
{
#ifdef CASTRA_SANDBOX_RELAXED
	atf_tc_skip("relaxed sandbox build: no chroot, seccomp or Landlock");
#endif
}

/* Reads a "Key:\tvalue..." line of /proc/PID/status. */
static void
proc_status(pid_t pid, const char *key, char *val, size_t len)
{
	char	 path[64], line[512];
	size_t	 klen = strlen(key);
	FILE	*fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	ATF_REQUIRE((fp = fopen(path, "r")) != NULL);
	val[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, key, klen) != 0 || line[klen] != ':')
			continue;
		/* Groups: ends with a blank. */
		line[strcspn(line, "\n")] = '\0';
		while (line[0] != '\0' &&
		    strchr(" \t", line[strlen(line) - 1]) != NULL)
			line[strlen(line) - 1] = '\0';
		strlcpy(val, line + klen + 1 + strspn(line + klen + 1,
		    " \t"), len);
		break;
	}
	fclose(fp);
	ATF_REQUIRE_MSG(val[0] != '\0', "no %s in %s", key, path);
}

static void
call_getppid(int out, int in)
{
	char	*p, *q;

	report(out, getppid());
	/* What every child does without listing it. */
	report(out, arc4random_uniform(1000) < 1000);
	if ((p = malloc(1 << 20)) == NULL ||
	    (q = realloc(p, 1 << 22)) == NULL)
		_exit(95);
	memset(q, 1, 1 << 22);
	free(q);
	log_info("%s: allowed calls made", __func__);
}

ATF_TC(allowed_call);
ATF_TC_HEAD(allowed_call, tc)
{
	atf_tc_set_md_var(tc, "descr", "a listed system call works, and "
	    "so does what every child needs (malloc, stderr, exit)");
}
ATF_TC_BODY(allowed_call, tc)
{
	struct sandbox	 sb;
	struct child	 c;
	int		 status;

	sandbox_small(&sb);
	child_start(&c, &sb, call_getppid, "stderr", NULL);
	ATF_CHECK_EQ(child_read(&c), (long)getpid());
	ATF_CHECK_EQ(child_read(&c), 1);
	status = child_wait(&c);
	ATF_REQUIRE_MSG(WIFEXITED(status), "child died of signal %d",
	    WTERMSIG(status));
	ATF_CHECK_EQ(WEXITSTATUS(status), 0);
	ATF_CHECK(atf_utils_grep_file("allowed calls made", "stderr"));
}

static void
call_forbidden(int out, int in)
{
	char	*p;

	/* malloc, stdio and logging are in the base list. */
	if ((p = malloc(1 << 20)) == NULL)
		_exit(93);
	memset(p, 1, 1 << 20);
	free(p);
	log_info("about to make a forbidden call");
	report(out, 1);
	report(out, syscall(SYS_getcwd, NULL, 0) == -1 ? errno : 0);
}

ATF_TC(forbidden_kills);
ATF_TC_HEAD(forbidden_kills, tc)
{
	atf_tc_set_md_var(tc, "descr", "a system call off the list kills "
	    "the child, and only the child, with SIGSYS");
}
ATF_TC_BODY(forbidden_kills, tc)
{
	struct sandbox	 sb;
	struct child	 c;
	char		 buf[8];
	int		 status;

	skip_relaxed();
	sandbox_small(&sb);
	child_start(&c, &sb, call_forbidden, "stderr", NULL);
	ATF_CHECK_EQ(child_read(&c), 1);
	/* The child is dead before it could report an errno. */
	ATF_CHECK_EQ(read(c.c_out, buf, sizeof(buf)), 0);
	status = child_wait(&c);
	ATF_REQUIRE_MSG(WIFSIGNALED(status), "child exited with %d",
	    WEXITSTATUS(status));
	ATF_CHECK_EQ(WTERMSIG(status), SIGSYS);
	ATF_CHECK(atf_utils_grep_file("about to make a forbidden call",
	    "stderr"));
}

static void
call_mmap_exec(int out, int in)
{
	void	*p;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	report(out, p != MAP_FAILED);
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	report(out, p != MAP_FAILED);
}

ATF_TC(mmap_exec_kills);
ATF_TC_HEAD(mmap_exec_kills, tc)
{
	atf_tc_set_md_var(tc, "descr", "mmap works, but not for "
	    "executable memory");
}
ATF_TC_BODY(mmap_exec_kills, tc)
{
	struct sandbox	 sb;
	struct child	 c;
	char		 buf[8];
	int		 status;

	skip_relaxed();
	sandbox_small(&sb);
	child_start(&c, &sb, call_mmap_exec, "stderr", NULL);
	ATF_CHECK_EQ(child_read(&c), 1);
	ATF_CHECK_EQ(read(c.c_out, buf, sizeof(buf)), 0);
	status = child_wait(&c);
	ATF_REQUIRE(WIFSIGNALED(status));
	ATF_CHECK_EQ(WTERMSIG(status), SIGSYS);
}

ATF_TC(mmap_exec_listed);
ATF_TC_HEAD(mmap_exec_listed, tc)
{
	atf_tc_set_md_var(tc, "descr", "a child that lists mmap itself "
	    "may map executable memory (castra-vmm, for QEMU)");
}
ATF_TC_BODY(mmap_exec_listed, tc)
{
	static const int list[] = { SCMP_SYS(mmap) };
	struct sandbox	 sb;
	struct child	 c;
	int		 status;

	sandbox_small(&sb);
	sb.sb_syscalls = list;
	sb.sb_nsyscalls = 1;
	child_start(&c, &sb, call_mmap_exec, "stderr", NULL);
	ATF_CHECK_EQ(child_read(&c), 1);
	ATF_CHECK_EQ(child_read(&c), 1);
	status = child_wait(&c);
	ATF_REQUIRE_MSG(WIFEXITED(status), "child died of signal %d",
	    WTERMSIG(status));
	ATF_CHECK_EQ(WEXITSTATUS(status), 0);
}

static void
call_reported(int out, int in)
{
	long	 rc;

	rc = syscall(SYS_getcwd, NULL, 0);
	report(out, rc == -1 ? errno : 0);
	rc = syscall(SYS_uname, NULL);
	report(out, rc == -1 ? errno : 0);
}

ATF_TC(report_mode);
ATF_TC_HEAD(report_mode, tc)
{
	atf_tc_set_md_var(tc, "descr", "with -S a forbidden call is named "
	    "on stderr and fails with ENOSYS instead of killing");
}
ATF_TC_BODY(report_mode, tc)
{
	struct sandbox	 sb;
	struct child	 c;
	int		 status;

	skip_relaxed();
	sandbox_small(&sb);
	proc_env.pe_seccomp_log = 1;
	child_start(&c, &sb, call_reported, "stderr", NULL);
	proc_env.pe_seccomp_log = 0;
	ATF_CHECK_EQ(child_read(&c), ENOSYS);
	ATF_CHECK_EQ(child_read(&c), ENOSYS);
	status = child_wait(&c);
	ATF_REQUIRE_MSG(WIFEXITED(status), "child died of signal %d",
	    WTERMSIG(status));
	ATF_CHECK_EQ(WEXITSTATUS(status), 0);
	ATF_CHECK(atf_utils_grep_file("forbidden system call getcwd "
	    "\\(%d\\)", "stderr", SYS_getcwd));
	ATF_CHECK(atf_utils_grep_file("forbidden system call uname "
	    "\\(%d\\)", "stderr", SYS_uname));
}

static int	 syslog_fd = -1;

/*
 * A syslog of our own: in a mount namespace of the child's, a tmpfs on
 * /dev and a datagram socket at /dev/log.
 */
static void
fake_syslog(void)
{
	struct sockaddr_un	 sun;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") == -1)
		_exit(96);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, "/dev/log", sizeof(sun.sun_path));
	if ((syslog_fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(syslog_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod("/dev/log", 0666) == -1)
		_exit(97);
	proc_env.pe_debug = 0;
}

static void
call_reported_syslog(int out, int in)
{
	char	 line[512];
	ssize_t	 n;

	report(out, syscall(SYS_getcwd, NULL, 0) == -1 ? errno : 0);
	if ((n = recv(syslog_fd, line, sizeof(line), MSG_DONTWAIT)) == -1)
		n = 0;
	report(out, n);
	if (n > 0 && write(out, line, n) != n)
		_exit(98);
}

ATF_TC(report_mode_syslog);
ATF_TC_HEAD(report_mode_syslog, tc)
{
	atf_tc_set_md_var(tc, "descr", "with -S but without -d the report "
	    "goes to syslog, even from the chroot");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(report_mode_syslog, tc)
{
	struct sandbox	 sb;
	struct child	 c;
	char		 dir[PATH_MAX], line[512], want[128];
	long		 n;
	int		 status;

	skip_relaxed();
	ATF_REQUIRE(getcwd(dir, sizeof(dir) - 6) != NULL);
	strlcat(dir, "/empty", sizeof(dir));
	ATF_REQUIRE(mkdir(dir, 0755) == 0);
	sandbox_small(&sb);
	sb.sb_chroot = dir;
	proc_env.pe_seccomp_log = 1;
	child_start(&c, &sb, call_reported_syslog, "stderr", fake_syslog);
	proc_env.pe_seccomp_log = 0;
	ATF_CHECK_EQ(child_read(&c), ENOSYS);
	n = child_read(&c);
	ATF_REQUIRE_MSG(n > 0 && n < (long)sizeof(line),
	    "nothing reached syslog");
	ATF_REQUIRE_EQ(read(c.c_out, line, n), n);
	line[n] = '\0';
	snprintf(want, sizeof(want), "<%d>sandbox_test[%d]: seccomp: "
	    "forbidden system call getcwd (%d)", LOG_DAEMON | LOG_WARNING,
	    (int)c.c_pid, SYS_getcwd);
	ATF_CHECK_MSG(strncmp(line, want, strlen(want)) == 0,
	    "syslog got \"%s\", want \"%s...\"", line, want);
	status = child_wait(&c);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ATF_REQUIRE(rmdir(dir) == 0);
}

static void
call_block(int out, int in)
{
	char	 c;

	report(out, 1);
	/* Hold still while the parent looks; EOF lets us go. */
	(void)read(in, &c, 1);
}

static int
gid_cmp(const void *a, const void *b)
{
	gid_t	 x = *(const gid_t *)a, y = *(const gid_t *)b;

	return (x < y ? -1 : x > y);
}

/*
 * The Groups line of /proc/PID/status for a process that holds these
 * groups: ascending, as the kernel keeps them after setgroups(2).
 */
static void
groups_line(gid_t *groups, int n, char *buf, size_t len)
{
	char	 num[16];
	int	 i;

	qsort(groups, n, sizeof(groups[0]), gid_cmp);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%s%d", i > 0 ? " " : "",
		    (int)groups[i]);
		strlcat(buf, num, len);
	}
}

ATF_TC(root_ids);
ATF_TC_HEAD(root_ids, tc)
{
	atf_tc_set_md_var(tc, "descr", "as root the child becomes _castra "
	    "for good, not dumpable, with no_new_privs and seccomp");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(root_ids, tc)
{
	struct sandbox	 sb;
	struct child	 c;
	struct stat	 st;
	char		 want[1024], val[1024];
	uid_t		 uid;
	gid_t		 gid, groups[64];
	int		 status, ngroups = 64;

	if (sandbox_user(&uid, &gid) == -1)
		atf_tc_fail("user %s is missing: run make deps", SANDBOX_USER);
	ATF_REQUIRE(getgrouplist(SANDBOX_USER, gid, groups, &ngroups) != -1);
	sandbox_small(&sb);
	child_start(&c, &sb, call_block, "stderr", NULL);
	ATF_REQUIRE_EQ(child_read(&c), 1);

	snprintf(want, sizeof(want), "%d\t%d\t%d\t%d", (int)uid, (int)uid,
	    (int)uid, (int)uid);
	proc_status(c.c_pid, "Uid", val, sizeof(val));
	ATF_CHECK_STREQ(val, want);
	snprintf(want, sizeof(want), "%d\t%d\t%d\t%d", (int)gid, (int)gid,
	    (int)gid, (int)gid);
	proc_status(c.c_pid, "Gid", val, sizeof(val));
	ATF_CHECK_STREQ(val, want);
	/* _castra's groups in the database, not root's. */
	groups_line(groups, ngroups, want, sizeof(want));
	proc_status(c.c_pid, "Groups", val, sizeof(val));
	ATF_CHECK_STREQ(val, want);
	proc_status(c.c_pid, "NoNewPrivs", val, sizeof(val));
	ATF_CHECK_STREQ(val, "1");
	/* Not dumpable: its /proc files stay root's, not _castra's. */
	snprintf(want, sizeof(want), "/proc/%d/mem", (int)c.c_pid);
	ATF_REQUIRE(stat(want, &st) == 0);
	ATF_CHECK_EQ(st.st_uid, 0);
	proc_status(c.c_pid, "Seccomp", val, sizeof(val));
#ifdef CASTRA_SANDBOX_RELAXED
	ATF_CHECK_STREQ(val, "0");
#else
	ATF_CHECK_STREQ(val, "2");
#endif
	status = child_wait(&c);
	ATF_REQUIRE(WIFEXITED(status));
	ATF_CHECK_EQ(WEXITSTATUS(status), 0);
}

static gid_t	 member_gid, other_gid;

/*
 * In a mount namespace of the child's, a group database of its own:
 * the host's, with _castra a member of one more group and root of
 * another, which root, the child so far, then holds.
 */
static void
fake_groups(void)
{
	char	 buf[4096];
	FILE	*in, *out;
	gid_t	 mine[2] = { 0, other_gid };
	size_t	 n;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		_exit(93);
	if ((in = fopen("/etc/group", "r")) == NULL ||
	    (out = fopen("group", "w")) == NULL)
		_exit(94);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			_exit(94);
	fprintf(out, "castra-member:x:%d:%s\n", (int)member_gid,
	    SANDBOX_USER);
	fprintf(out, "castra-other:x:%d:root\n", (int)other_gid);
	if (ferror(in) || fclose(in) == EOF || fclose(out) == EOF)
		_exit(94);
	if (mount("group", "/etc/group", NULL, MS_BIND, NULL) == -1 ||
	    setgroups(2, mine) == -1)
		_exit(95);
}

/* A gid that the host's group database does not use. */
static gid_t
free_gid(gid_t from)
{
	gid_t	 gid;

	for (gid = from; getgrgid(gid) != NULL; gid++)
		;
	return (gid);
}

static void
call_groups(int out, int in)
{
	gid_t	 groups[16];
	int	 i, n;

	n = getgroups(16, groups);
	report(out, n);
	for (i = 0; i < n; i++)
		report(out, groups[i]);
	call_block(out, in);
}

ATF_TC(root_groups);
ATF_TC_HEAD(root_groups, tc)
{
	atf_tc_set_md_var(tc, "descr", "as root the child holds the "
	    "groups the group database gives _castra, and none of root's");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(root_groups, tc)
{
	static const int list[] = { SCMP_SYS(getgroups) };
	struct sandbox	 sb;
	struct child	 c;
	char		 want[1024], val[1024];
	uid_t		 uid;
	gid_t		 gid, groups[64];
	long		 g;
	int		 status, i, n, ngroups = 64;

	if (sandbox_user(&uid, &gid) == -1)
		atf_tc_fail("user %s is missing: run make deps", SANDBOX_USER);
	ATF_REQUIRE(getgrouplist(SANDBOX_USER, gid, groups, &ngroups) != -1);
	ATF_REQUIRE(ngroups < 62);
	member_gid = free_gid(64000);
	other_gid = free_gid(member_gid + 1);
	groups[ngroups++] = member_gid;

	sandbox_small(&sb);
	sb.sb_syscalls = list;
	sb.sb_nsyscalls = sizeof(list) / sizeof(list[0]);
	child_start(&c, &sb, call_groups, "stderr", fake_groups);
	ATF_REQUIRE((n = child_read(&c)) > 0);
	ATF_CHECK_EQ(n, ngroups);
	for (i = 0; i < n; i++) {
		g = child_read(&c);
		ATF_CHECK_MSG(g != 0 && g != (long)other_gid,
		    "the child kept root's group %ld", g);
	}
	ATF_REQUIRE_EQ(child_read(&c), 1);
	groups_line(groups, ngroups, want, sizeof(want));
	proc_status(c.c_pid, "Groups", val, sizeof(val));
	ATF_CHECK_STREQ(val, want);
	status = child_wait(&c);
	ATF_REQUIRE(WIFEXITED(status));
	ATF_CHECK_EQ(WEXITSTATUS(status), 0);
}

static void
call_chrooted(int out, int in)
{
	char	 cwd[PATH_MAX];

	report(out, syscall(SYS_getcwd, cwd, sizeof(cwd)) == -1 ? -errno :
	    (long)strcmp(cwd, "/"));
	report(out, open("/etc/passwd", O_RDONLY) == -1 ? errno : 0);
}

ATF_TC(root_chroot);
ATF_TC_HEAD(root_chroot, tc)
{
	atf_tc_set_md_var(tc, "descr", "as root the child is locked in "
	    "its chroot, which only root or _castra may write");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(root_chroot, tc)
{
	static const int list[] = { SCMP_SYS(getcwd), SCMP_SYS(openat) };
	struct sandbox	 sb;
	struct child	 c;
	char		 dir[PATH_MAX];
	uid_t		 uid;
	gid_t		 gid;
	int		 status;

	skip_relaxed();
	ATF_REQUIRE(getcwd(dir, sizeof(dir) - 6) != NULL);
	strlcat(dir, "/empty", sizeof(dir));
	ATF_REQUIRE(mkdir(dir, 0755) == 0);
	sandbox_small(&sb);
	sb.sb_syscalls = list;
	sb.sb_nsyscalls = sizeof(list) / sizeof(list[0]);
	sb.sb_chroot = dir;
	child_start(&c, &sb, call_chrooted, "stderr", NULL);
	ATF_CHECK_EQ(child_read(&c), 0);
	ATF_CHECK_EQ(child_read(&c), ENOENT);
	status = child_wait(&c);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* _castra's own directory will do (imgd's image cache)... */
	ATF_REQUIRE(sandbox_user(&uid, &gid) == 0);
	ATF_REQUIRE(chown(dir, uid, gid) == 0);
	child_start(&c, &sb, call_chrooted, "stderr", NULL);
	ATF_CHECK_EQ(child_read(&c), 0);
	ATF_CHECK_EQ(child_read(&c), ENOENT);
	status = child_wait(&c);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* ...but one that others may write is refused before anything. */
	ATF_REQUIRE(chown(dir, 0, 0) == 0);
	ATF_REQUIRE(chmod(dir, 0777) == 0);
	child_start(&c, &sb, call_chrooted, "stderr", NULL);
	status = child_wait(&c);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	ATF_CHECK(atf_utils_grep_file("only its owner may write", "stderr"));

	/* And so is one of another user. */
	ATF_REQUIRE(chmod(dir, 0755) == 0);
	ATF_REQUIRE(chown(dir, NOBODY, NOBODY) == 0);
	child_start(&c, &sb, call_chrooted, "stderr", NULL);
	status = child_wait(&c);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	ATF_CHECK(atf_utils_grep_file("only its owner may write", "stderr"));
	ATF_REQUIRE(rmdir(dir) == 0);
}

static int
landlock_abi(void)
{
	long	 abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U);
	return (abi == -1 ? 0 : (int)abi);
}

static void
call_open_two(int out, int in)
{
	int	 fd;

	fd = open("/etc/passwd", O_RDONLY);
	report(out, fd == -1 ? errno : 0);
	fd = open("/etc/group", O_RDONLY);
	report(out, fd == -1 ? errno : 0);
}

ATF_TC(landlock_paths);
ATF_TC_HEAD(landlock_paths, tc)
{
	atf_tc_set_md_var(tc, "descr", "as an ordinary user (nobody, when "
	    "run as root) only the listed paths can be opened");
}
ATF_TC_BODY(landlock_paths, tc)
{
	static const struct sandbox_path paths[] = {
		{ "/etc/passwd", SANDBOX_READ },
	};
	struct sandbox	 sb;
	struct child	 c;
	struct stat	 st;
	int		 status;

	skip_relaxed();
	if (landlock_abi() < 1)
		atf_tc_skip("the kernel has no Landlock");
	/* Without the sandbox, nobody may read both. */
	ATF_REQUIRE(stat("/etc/group", &st) == 0 && (st.st_mode & S_IROTH));
	ATF_REQUIRE(stat("/etc/passwd", &st) == 0 && (st.st_mode & S_IROTH));

	sandbox_small(&sb);
	sb.sb_syscalls = open_list;
	sb.sb_nsyscalls = sizeof(open_list) / sizeof(open_list[0]);
	sb.sb_paths = paths;
	sb.sb_npaths = sizeof(paths) / sizeof(paths[0]);
	child_start(&c, &sb, call_open_two, "stderr", become_nobody);
	ATF_CHECK_EQ(child_read(&c), 0);
	ATF_CHECK_EQ(child_read(&c), EACCES);
	status = child_wait(&c);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int	 tcp_port;

static void
call_connect(int out, int in)
{
	struct sockaddr_in	 sin;
	int			 s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(tcp_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		_exit(94);
	report(out, connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ?
	    errno : 0);
}

ATF_TC(landlock_tcp);
ATF_TC_HEAD(landlock_tcp, tc)
{
	atf_tc_set_md_var(tc, "descr", "as an ordinary user a TCP connect "
	    "needs SANDBOX_TCP_CONNECT");
}
ATF_TC_BODY(landlock_tcp, tc)
{
	struct sockaddr_in	 sin;
	struct sandbox		 sb;
	struct child		 c;
	socklen_t		 len = sizeof(sin);
	int			 s, status;

	skip_relaxed();
	if (landlock_abi() < 4)
		atf_tc_skip("the kernel's Landlock has no network rules");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE((s = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	ATF_REQUIRE(bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	ATF_REQUIRE(listen(s, 4) == 0);
	ATF_REQUIRE(getsockname(s, (struct sockaddr *)&sin, &len) == 0);
	tcp_port = ntohs(sin.sin_port);

	sandbox_small(&sb);
	sb.sb_syscalls = open_list;
	sb.sb_nsyscalls = sizeof(open_list) / sizeof(open_list[0]);
	child_start(&c, &sb, call_connect, "stderr", become_nobody);
	ATF_CHECK_EQ(child_read(&c), EACCES);
	status = child_wait(&c);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	sb.sb_allow = SANDBOX_TCP_CONNECT;
	child_start(&c, &sb, call_connect, "stderr", become_nobody);
	ATF_CHECK_EQ(child_read(&c), 0);
	status = child_wait(&c);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(s);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, allowed_call);
	ATF_TP_ADD_TC(tp, forbidden_kills);
	ATF_TP_ADD_TC(tp, mmap_exec_kills);
	ATF_TP_ADD_TC(tp, mmap_exec_listed);
	ATF_TP_ADD_TC(tp, report_mode);
	ATF_TP_ADD_TC(tp, report_mode_syslog);
	ATF_TP_ADD_TC(tp, root_ids);
	ATF_TP_ADD_TC(tp, root_groups);
	ATF_TP_ADD_TC(tp, root_chroot);
	ATF_TP_ADD_TC(tp, landlock_paths);
	ATF_TP_ADD_TC(tp, landlock_tcp);
	return (atf_no_error());
}
