/*
 * Confinement of castrad's children.
 *
 * A child calls sandbox_enter() once it has opened what it must open
 * itself.  Started by root, it is locked in its chroot (if it has one)
 * and becomes the unprivileged _castra user; started by an ordinary
 * user, Landlock takes away every path it did not list.  Then, in both
 * cases, a seccomp filter kills the child on any system call that is
 * neither in the child's own list nor in the short base list below,
 * which covers what libc, libevent and the imsg channel need in every
 * child.
 *
 * With -S (proc_env.pe_seccomp_log) a forbidden call does not kill:
 * the filter traps it (SCMP_ACT_TRAP), the SIGSYS handler names the
 * call in the log (stderr under -d, else syslog) and the call fails
 * with ENOSYS, so one run of a child names every call missing from
 * its list.
 *
 * A build with CASTRA_SANDBOX_RELAXED (make SANITIZE=1) still drops
 * the user but skips chroot, Landlock and seccomp: the sanitizers read
 * /proc and make system calls of their own.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <paths.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <ucontext.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "sandbox.h"

/* Rights newer than the kernel headers of the build host. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP		(1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP		(1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL			(1ULL << 1)
#endif

/* make SANITIZE=1: the sanitizers need /proc and calls of their own. */
#ifdef CASTRA_SANDBOX_RELAXED
#define SANDBOX_RELAXED	1
#else
#define SANDBOX_RELAXED	0
#endif

#define LL_FS_ABI1	((1ULL << 13) - 1)	/* execute .. make_sym */

/* What a rule on a file (not a directory) may grant. */
#define LL_FS_FILE	(LANDLOCK_ACCESS_FS_EXECUTE | \
			 LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_TRUNCATE | \
			 LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define LL_FS_READ	(LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_READ_DIR)

/* Device nodes are never made: mknod needs a privilege no child has. */
#define LL_FS_WRITE	(LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_REMOVE_DIR | \
			 LANDLOCK_ACCESS_FS_REMOVE_FILE | \
			 LANDLOCK_ACCESS_FS_MAKE_DIR | \
			 LANDLOCK_ACCESS_FS_MAKE_REG | \
			 LANDLOCK_ACCESS_FS_MAKE_SOCK | \
			 LANDLOCK_ACCESS_FS_MAKE_FIFO | \
			 LANDLOCK_ACCESS_FS_MAKE_SYM | \
			 LANDLOCK_ACCESS_FS_REFER | \
			 LANDLOCK_ACCESS_FS_TRUNCATE | \
			 LANDLOCK_ACCESS_FS_IOCTL_DEV)

/*
 * The ruleset attribute as the newest kernel known here reads it; an
 * older kernel accepts the larger structure while the fields it does
 * not know stay zero.
 */
struct sandbox_ruleset {
	uint64_t	 sr_fs;
	uint64_t	 sr_net;
	uint64_t	 sr_scoped;
};

/*
 * The system calls every child makes, whatever its job.  mmap and
 * mprotect are allowed too, but never with PROT_EXEC (see
 * sandbox_seccomp): no child maps new code once it runs.
 */
static const int sandbox_base[] = {
	/* The channel to castrad: imsg, descriptors riding along. */
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	/* The descriptors the child holds: read, written, closed. */
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	/* libevent's loop, on the epoll descriptor made by event_init. */
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl),
	/*
	 * libevent's signal handler sends a byte over a socketpair and
	 * its loop receives it; syslog(3) sends its lines the same way.
	 */
	SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),
	/* Signals: libevent installs and blocks handlers, and returns. */
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall),
	/* Time: the vDSO answers, unless the kernel has none. */
	SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday),
	/*
	 * malloc: the heap grows by brk, large blocks are mapped, grown
	 * in place and unmapped, and free gives pages back.
	 */
	SCMP_SYS(brk),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	/*
	 * arc4random(3) seeds itself from getrandom and checks getpid
	 * for a fork; syslog(3) puts the pid in every line.
	 */
	SCMP_SYS(getpid),
	SCMP_SYS(getrandom),
	/* exit(3) and _exit(2). */
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
};

/*
 * Only when logging goes to syslog: glibc connects again to /dev/log
 * after a failed send.
 */
static const int sandbox_syslog[] = {
	SCMP_SYS(connect),
};

#define SANDBOX_MAXNR	512	/* names kept for -S, by number */
#define SANDBOX_NGROUPS	64	/* _castra's groups, its own among them */

static const char	*sandbox_procname = "castra";
static char		*sandbox_names[SANDBOX_MAXNR];
static uint32_t		 sandbox_arch;
static char		 sandbox_logtag[96];	/* -S: "<pri>name[pid]: " */
static int		 sandbox_logfd = -1;	/* -S: syslog, without -d */

static void	sandbox_drop(const struct sandbox *);
static void	sandbox_chroot(const char *, uid_t);
static void	sandbox_checkids(uid_t, gid_t, const gid_t *, int);
static void	sandbox_landlock(const struct sandbox *);
static void	sandbox_seccomp(const struct sandbox *);
static void	sandbox_report_dest(void);

void
sandbox_enter(const struct sandbox *sb)
{
	int	 root = geteuid() == 0;

	if (sb->sb_name != NULL)
		sandbox_procname = sb->sb_name;

	/* -S: reach /dev/log while no chroot hides it. */
	if (proc_env.pe_seccomp_log && !SANDBOX_RELAXED)
		sandbox_report_dest();
	if (root)
		sandbox_drop(sb);

	/* No exec of the child (QEMU under vmm) may gain a privilege. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl PR_SET_NO_NEW_PRIVS");
	/*
	 * As _castra, QEMU shares the children's uid: no core dumps, and
	 * no ptrace or /proc/PID/mem of a child by a guest that broke out.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl PR_SET_DUMPABLE");

	if (SANDBOX_RELAXED) {
		log_warnx("relaxed sandbox build: no chroot, Landlock or "
		    "seccomp");
		return;
	}
	/* Root's children are _castra now, and locked in by ownership. */
	if (!root)
		sandbox_landlock(sb);
	sandbox_seccomp(sb);
}

/* The unprivileged user of the children, 0 or -1 with errno. */
int
sandbox_user(uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(SANDBOX_USER)) == NULL) {
		if (errno == 0)
			errno = ENOENT;
		endpwent();
		return (-1);
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	endpwent();
	return (0);
}

/*
 * Root's way: the chroot while we may still make it, then every user
 * and group id, real, effective and saved, so that none can come back.
 *
 * The supplementary groups become _castra's in the group database, and
 * none of root's stays.  QEMU inherits them from castra-vmm: /dev/kvm
 * is group kvm's on most hosts, and `make deps` puts _castra in that
 * group where it exists, so that system mode gets KVM.  Whoever adds
 * _castra to another group gives every child and every guest's QEMU
 * that group's rights.
 */
static void
sandbox_drop(const struct sandbox *sb)
{
	gid_t		 groups[SANDBOX_NGROUPS];
	uid_t		 uid;
	gid_t		 gid;
	int		 ngroups = SANDBOX_NGROUPS;

	if (sandbox_user(&uid, &gid) == -1) {
		if (errno == ENOENT)
			fatalx("user %s does not exist; run `make deps` or "
			    "useradd --system %s", SANDBOX_USER, SANDBOX_USER);
		fatal("getpwnam %s", SANDBOX_USER);
	}
	/* Before the chroot, which hides the group database. */
	if (getgrouplist(SANDBOX_USER, gid, groups, &ngroups) == -1)
		fatalx("user %s is in more than %d groups", SANDBOX_USER,
		    SANDBOX_NGROUPS);

	if (sb->sb_chroot != NULL && !SANDBOX_RELAXED)
		sandbox_chroot(sb->sb_chroot, uid);

	if (setgroups(ngroups, groups) == -1)
		fatal("setgroups of %s", SANDBOX_USER);
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid %d", (int)gid);
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid %d", (int)uid);
	sandbox_checkids(uid, gid, groups, ngroups);
}

/*
 * The new root belongs to root, or to _castra where the child keeps
 * its files there (imgd's cache), and nobody else may write to it:
 * another user could plant what the child would then find.
 */
static void
sandbox_chroot(const char *dir, uid_t uid)
{
	struct stat	 st;

	if (stat(dir, &st) == -1)
		fatal("chroot %s", dir);
	if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != uid) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatalx("chroot %s: not a directory of root or %s that only "
		    "its owner may write", dir, SANDBOX_USER);
	if (chroot(dir) == -1)
		fatal("chroot %s", dir);
	if (chdir("/") == -1)
		fatal("chroot %s: chdir /", dir);
}

/* Trust no return value: ask the kernel what the ids are now. */
static void
sandbox_checkids(uid_t uid, gid_t gid, const gid_t *want, int nwant)
{
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid, groups[SANDBOX_NGROUPS + 1];
	int		 i, j, n;

	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		fatal("getresuid");
	if (ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid)
		fatalx("user and group ids did not change");
	if ((n = getgroups(SANDBOX_NGROUPS + 1, groups)) == -1)
		fatal("getgroups");
	if (n != nwant)
		fatalx("supplementary groups remain");
	for (i = 0; i < n; i++) {
		for (j = 0; j < nwant && want[j] != groups[i]; j++)
			;
		if (j == nwant)
			fatalx("group %d remains", (int)groups[i]);
	}
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("could become root again");
}

/*
 * The Landlock ABI of the running kernel, 0 when it has none: too old,
 * or Landlock left out at boot.
 */
static int
sandbox_landlock_abi(void)
{
	long	 abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi == -1) {
		log_warn("Landlock is not available, the file system is "
		    "not confined");
		return (0);
	}
	return ((int)abi);
}

/* Every right of the kernel's ABI is handled, so denied by default. */
static void
sandbox_ruleset_init(struct sandbox_ruleset *sr, int abi, int allow)
{
	memset(sr, 0, sizeof(*sr));
	sr->sr_fs = LL_FS_ABI1;
	if (abi >= 2)
		sr->sr_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		sr->sr_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		sr->sr_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 4) {
		if ((allow & SANDBOX_TCP_BIND) == 0)
			sr->sr_net |= LANDLOCK_ACCESS_NET_BIND_TCP;
		if ((allow & SANDBOX_TCP_CONNECT) == 0)
			sr->sr_net |= LANDLOCK_ACCESS_NET_CONNECT_TCP;
	}
	if (abi >= 6) {
		sr->sr_scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
		if ((allow & SANDBOX_SIGNAL) == 0)
			sr->sr_scoped |= LANDLOCK_SCOPE_SIGNAL;
	}
}

/* Add one path of the child's list; one that does not exist is left out. */
static void
sandbox_landlock_path(int rfd, const struct sandbox_path *sp,
    uint64_t handled)
{
	struct landlock_path_beneath_attr	 pb;
	struct stat				 st;
	uint64_t				 access = 0;
	int					 fd;

	if ((fd = open(sp->sp_path, O_PATH | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			fatal("%s", sp->sp_path);
		log_debug("%s: %s does not exist, not granted", __func__,
		    sp->sp_path);
		return;
	}
	if (fstat(fd, &st) == -1)
		fatal("%s: fstat", sp->sp_path);

	if (sp->sp_access & SANDBOX_READ)
		access |= LL_FS_READ;
	if (sp->sp_access & SANDBOX_WRITE)
		access |= LL_FS_WRITE;
	if (sp->sp_access & SANDBOX_EXEC)
		access |= LANDLOCK_ACCESS_FS_EXECUTE;
	access &= handled;
	if (!S_ISDIR(st.st_mode))
		access &= LL_FS_FILE;
	if (access == 0)
		fatalx("%s: no access to grant", sp->sp_path);

	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) == -1)
		fatal("%s: landlock_add_rule", sp->sp_path);
	close(fd);
}

/* The ordinary user's way: only the listed paths stay reachable. */
static void
sandbox_landlock(const struct sandbox *sb)
{
	struct sandbox_ruleset	 sr;
	size_t			 i;
	int			 abi, rfd;

	if ((abi = sandbox_landlock_abi()) <= 0)
		return;
	sandbox_ruleset_init(&sr, abi, sb->sb_allow);

	rfd = syscall(SYS_landlock_create_ruleset, &sr, sizeof(sr), 0);
	if (rfd == -1)
		fatal("landlock_create_ruleset");
	for (i = 0; i < sb->sb_npaths; i++)
		sandbox_landlock_path(rfd, &sb->sb_paths[i], sr.sr_fs);
	if (syscall(SYS_landlock_restrict_self, rfd, 0) == -1)
		fatal("landlock_restrict_self");
	close(rfd);
	log_debug("%s: Landlock ABI %d, %zu paths", __func__, abi,
	    sb->sb_npaths);
}

/* Decimal digits of n at the end of buf; returns where they start. */
static char *
sandbox_utoa(unsigned int n, char *buf, size_t len)
{
	char	*p = buf + len - 1;

	*p = '\0';
	do {
		*--p = '0' + n % 10;
		n /= 10;
	} while (n > 0 && p > buf);
	return (p);
}

/*
 * -S: report a forbidden call and make it fail with ENOSYS.  Runs as a
 * signal handler, so it only formats into its own buffer, uses the
 * names resolved before the filter went in, and writes with write(2)
 * to stderr (-d) or send(2) on the syslog socket it opened before.
 */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *arg)
{
	ucontext_t	*uc = arg;
	const char	*call = "unknown";
	char		 line[320], num[16];
	int		 saved_errno = errno;
	int		 nr = si->si_syscall;

	if (si->si_arch == sandbox_arch && nr >= 0 &&
	    nr < SANDBOX_MAXNR && sandbox_names[nr] != NULL)
		call = sandbox_names[nr];

	strlcpy(line, sandbox_logtag, sizeof(line));
	strlcat(line, "seccomp: forbidden system call ", sizeof(line));
	strlcat(line, call, sizeof(line));
	strlcat(line, " (", sizeof(line));
	strlcat(line, sandbox_utoa(nr, num, sizeof(num)), sizeof(line));
	strlcat(line, "), failing it with ENOSYS\n", sizeof(line));
	if (sandbox_logfd == -1)
		(void)write(STDERR_FILENO, line, strlen(line));
	else
		(void)send(sandbox_logfd, line, strlen(line) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = -ENOSYS;
#else
#error "sandbox_sigsys: set the return register of this architecture"
#endif
	errno = saved_errno;
}

/*
 * Without -d the report goes to syslog, over a socket of our own made
 * now, while /dev/log is still in reach; without a syslog daemon it
 * goes to stderr after all.
 */
static void
sandbox_report_dest(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	snprintf(sandbox_logtag, sizeof(sandbox_logtag), "%s: ",
	    sandbox_procname);
	if (proc_env.pe_debug)
		return;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, _PATH_LOG, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return;
	}
	sandbox_logfd = fd;
	snprintf(sandbox_logtag, sizeof(sandbox_logtag), "<%d>%s[%d]: ",
	    LOG_DAEMON | LOG_WARNING, sandbox_procname, (int)getpid());
}

static void
sandbox_report_mode(void)
{
	struct sigaction	 sa;
	int			 nr;

	/* Resolving allocates: do it now, not in the handler. */
	sandbox_arch = seccomp_arch_native();
	for (nr = 0; nr < SANDBOX_MAXNR; nr++)
		sandbox_names[nr] = seccomp_syscall_resolve_num_arch(
		    sandbox_arch, nr);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal("sigaction SIGSYS");
	log_warnx("seccomp in report mode (-S): forbidden system calls are "
	    "named in the log and fail with ENOSYS");
}

static void
sandbox_allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < n; i++) {
		/* A call this architecture lacks has a negative number. */
		if (calls[i] < 0)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i],
		    0)) < 0)
			fatalx("seccomp: cannot allow system call %d: %s",
			    calls[i], strerror(-rc));
	}
}

/* mmap and mprotect, as long as they make nothing executable. */
static void
sandbox_allow_noexec(scmp_filter_ctx ctx)
{
	int	 rc;

	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		fatalx("seccomp: mmap rule: %s", strerror(-rc));
}

/* syslog(3) makes its own AF_UNIX socket again when the old one broke. */
static void
sandbox_allow_syslog(scmp_filter_ctx ctx)
{
	int	 rc;

	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0))) < 0)
		fatalx("seccomp: socket rule: %s", strerror(-rc));
	sandbox_allow(ctx, sandbox_syslog,
	    sizeof(sandbox_syslog) / sizeof(sandbox_syslog[0]));
}

static void
sandbox_seccomp(const struct sandbox *sb)
{
	scmp_filter_ctx	 ctx;
	uint32_t	 deny = SCMP_ACT_KILL_PROCESS;
	int		 rc;

	if (sb->sb_nsyscalls > 0 && sb->sb_syscalls == NULL)
		fatalx("seccomp: no system call list");
	if (proc_env.pe_seccomp_log) {
		sandbox_report_mode();
		deny = SCMP_ACT_TRAP;
	}

	if ((ctx = seccomp_init(deny)) == NULL)
		fatalx("seccomp_init failed");
	/* A call through another ABI (i386, x32) is never allowed. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0)
		fatalx("seccomp: bad architecture action: %s",
		    strerror(-rc));

	sandbox_allow(ctx, sandbox_base,
	    sizeof(sandbox_base) / sizeof(sandbox_base[0]));
	sandbox_allow_noexec(ctx);
	if (!proc_env.pe_debug)
		sandbox_allow_syslog(ctx);
	sandbox_allow(ctx, sb->sb_syscalls, sb->sb_nsyscalls);

	if ((rc = seccomp_load(ctx)) < 0)
		fatalx("seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	log_debug("%s: %zu system calls of its own allowed", __func__,
	    sb->sb_nsyscalls);
}
