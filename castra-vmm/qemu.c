/*
 * QEMU processes: the command line, the launch, and telling later that a
 * pid is still the QEMU that was launched.
 *
 * QEMU runs with the project's state root as its working directory, so
 * every path of the VM's own on its command line is relative and short
 * (a unix socket path must fit in 108 bytes).  It is started through a
 * double fork in a session of its own: it is nobody's child to reap,
 * it gets no parent-death signal, and it outlives castra-vmm and castrad,
 * which adopt it again when they come back.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "vmm.h"

#define QEMU_STAT_MAX		1024
#define QEMU_CMDLINE_MAX	(VMM_ARGV_MAX * VMM_ARG_MAX)
#define QEMU_TAIL_BYTES		4096

static int	qemu_add(struct vmm_guest *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));

static int
qemu_add(struct vmm_guest *vm, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (vm->vm_argc >= VMM_ARGV_MAX - 1) {
		errno = E2BIG;
		return (-1);
	}
	va_start(ap, fmt);
	n = vasprintf(&vm->vm_argv[vm->vm_argc], fmt, ap);
	va_end(ap);
	if (n == -1) {
		vm->vm_argv[vm->vm_argc] = NULL;
		return (-1);
	}
	vm->vm_argc++;
	vm->vm_argv[vm->vm_argc] = NULL;
	return (0);
}

void
qemu_argv_free(struct vmm_guest *vm)
{
	int	 i;

	for (i = 0; i < vm->vm_argc; i++)
		free(vm->vm_argv[i]);
	vm->vm_argc = 0;
	vm->vm_argv[0] = NULL;
}

static int
qemu_argv_forwards(struct vmm_guest *vm, const struct vmm_start *vs)
{
	char		 net[2048];
	const char	*bind;
	size_t		 len;
	uint32_t	 i;

	len = strlcpy(net, "user,id=net0", sizeof(net));
	for (i = 0; i < vs->vs_nforwards; i++) {
		bind = vs->vs_forwards[i].cf_bind[0] != '\0' ?
		    vs->vs_forwards[i].cf_bind : "127.0.0.1";
		len += snprintf(net + len, len < sizeof(net) ?
		    sizeof(net) - len : 0, ",hostfwd=%s:%s:%u-:%u",
		    vs->vs_forwards[i].cf_proto == FORWARD_UDP ? "udp" : "tcp",
		    bind, vs->vs_forwards[i].cf_host,
		    vs->vs_forwards[i].cf_guest);
	}
	if (len >= sizeof(net)) {
		errno = E2BIG;
		return (-1);
	}
	if (qemu_add(vm, "-netdev") == -1 || qemu_add(vm, "%s", net) == -1 ||
	    qemu_add(vm, "-device") == -1 ||
	    qemu_add(vm, "virtio-net-pci,netdev=net0") == -1)
		return (-1);
	return (0);
}

static int
qemu_argv_fwcfg(struct vmm_guest *vm, const struct vmm_start *vs)
{
	if (qemu_add(vm, "-fw_cfg") == -1 ||
	    qemu_add(vm, "name=opt/castra/name,string=%s", vs->vs_name) ==
	    -1 || qemu_add(vm, "-fw_cfg") == -1 ||
	    qemu_add(vm, "name=opt/castra/port,string=%u",
	    vs->vs_broker_port) == -1)
		return (-1);
	/* The token travels in a file: argv is public in /proc. */
	if (vs->vs_token[0] != '\0' && (qemu_add(vm, "-fw_cfg") == -1 ||
	    qemu_add(vm, "name=opt/castra/token,file=run/%s.token",
	    vs->vs_name) == -1))
		return (-1);
	if (vm->vm_bootstrap && (qemu_add(vm, "-fw_cfg") == -1 ||
	    qemu_add(vm, "name=opt/castra/bootstrap,file=run/%s-bootstrap.tar",
	    vs->vs_name) == -1))
		return (-1);
	return (0);
}

static int
qemu_argv_boot(struct vmm_guest *vm, const struct vmm_start *vs,
    const char *home)
{
	if (vs->vs_kernel[0] == '\0')
		return (0);
	if (qemu_add(vm, "-kernel") == -1 ||
	    qemu_add(vm, "%s/images/sha256/%s", home, vs->vs_kernel) == -1)
		return (-1);
	if (vs->vs_initrd[0] != '\0' && (qemu_add(vm, "-initrd") == -1 ||
	    qemu_add(vm, "%s/images/sha256/%s", home, vs->vs_initrd) == -1))
		return (-1);
	if (vs->vs_cmdline[0] != '\0' && (qemu_add(vm, "-append") == -1 ||
	    qemu_add(vm, "%s", vs->vs_cmdline) == -1))
		return (-1);
	return (0);
}

/*
 * The whole command line.  Every value that QEMU parses as key=value
 * options comes from validated names and numbers, so none of them can
 * hold a comma; the kernel and initrd are plain path options.
 */
int
qemu_argv(struct vmm_guest *vm, const struct vmm_start *vs, const char *home)
{
	const char	*n = vs->vs_name;

	qemu_argv_free(vm);
	if (qemu_add(vm, "%s", VMM_QEMU) == -1 ||
	    qemu_add(vm, "-name") == -1 || qemu_add(vm, "%s", n) == -1 ||
	    qemu_add(vm, "-M") == -1 || qemu_add(vm, "q35") == -1 ||
	    qemu_add(vm, "-accel") == -1)
		goto fail;
	if (strcmp(vm->vm_accel, "kvm") == 0) {
		if (qemu_add(vm, "kvm") == -1 || qemu_add(vm, "-cpu") == -1 ||
		    qemu_add(vm, "host") == -1)
			goto fail;
	} else if (qemu_add(vm, "tcg,tb-size=32") == -1)
		goto fail;
	if (qemu_add(vm, "-m") == -1 ||
	    qemu_add(vm, "%u", vs->vs_memory_mib) == -1 ||
	    qemu_add(vm, "-smp") == -1 ||
	    qemu_add(vm, "%u", vs->vs_cpus) == -1 ||
	    qemu_add(vm, "-nodefaults") == -1 ||
	    qemu_add(vm, "-display") == -1 || qemu_add(vm, "none") == -1 ||
	    qemu_add(vm, "-no-reboot") == -1 ||
	    qemu_add(vm, "-sandbox") == -1 ||
	    qemu_add(vm, "on,obsolete=deny,elevateprivileges=deny,"
	    "spawn=deny,resourcecontrol=deny") == -1 ||
	    qemu_add(vm, "-qmp") == -1 ||
	    qemu_add(vm, "unix:run/%s.qmp,server=on,wait=off", n) == -1 ||
	    qemu_add(vm, "-serial") == -1 ||
	    qemu_add(vm, "file:logs/%s-serial.log", n) == -1 ||
	    qemu_add(vm, "-drive") == -1 ||
	    qemu_add(vm, "file=overlays/%s.qcow2,if=virtio,format=qcow2", n) ==
	    -1)
		goto fail;
	if (qemu_argv_forwards(vm, vs) == -1 ||
	    qemu_argv_fwcfg(vm, vs) == -1 ||
	    qemu_argv_boot(vm, vs, home) == -1)
		goto fail;
	return (0);

 fail:
	qemu_argv_free(vm);
	return (-1);
}

/* The grandchild: becomes QEMU, or says on errfd why it could not. */
__attribute__((__noreturn__)) static void
qemu_exec(struct vmm_guest *vm, int errfd)
{
	char		 log[VM_NAME_MAX + 16];
	sigset_t	 set;
	int		 fd, e;

	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);

	snprintf(log, sizeof(log), "logs/%s.log", vm->vm_name);
	if (setsid() == -1 || fchdir(vm->vm_dirfd) == -1)
		goto fail;
	if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1)
		goto fail;
	if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
	    0640)) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		goto fail;
	/* Nothing of castra-vmm's leaks into QEMU; errfd lives to exec. */
	if (errfd != 3 && dup2(errfd, 3) == -1)
		goto fail;
	errfd = 3;
	if (fcntl(errfd, F_SETFD, FD_CLOEXEC) == -1)
		goto fail;
	closefrom(4);
	execv(vm->vm_argv[0], vm->vm_argv);
 fail:
	e = errno;
	(void)write(errfd, &e, sizeof(e));
	_exit(127);
}

/*
 * Start QEMU; returns its pid once it has exec'd, or -1 with err
 * saying why.
 */
pid_t
qemu_launch(struct vmm_guest *vm, char *err, size_t errlen)
{
	pid_t	 mid, pid = -1;
	int	 pp[2] = { -1, -1 }, ep[2] = { -1, -1 }, status, e = 0;
	ssize_t	 n;

	if (pipe2(pp, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	switch (mid = fork()) {
	case -1:
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	case 0:
		close(pp[0]);
		close(ep[0]);
		if ((pid = fork()) == 0)
			qemu_exec(vm, ep[1]);
		(void)write(pp[1], &pid, sizeof(pid));
		_exit(pid == -1);
	}
	close(pp[1]);
	close(ep[1]);
	pp[1] = ep[1] = -1;
	while (waitpid(mid, &status, 0) == -1 && errno == EINTR)
		;
	if (read(pp[0], &pid, sizeof(pid)) != sizeof(pid) || pid <= 0) {
		snprintf(err, errlen, "could not fork QEMU");
		pid = -1;
		goto fail;
	}
	/* End of file on the close-on-exec pipe: the exec went through. */
	while ((n = read(ep[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	if (n == sizeof(e)) {
		snprintf(err, errlen, "cannot run %s: %s", vm->vm_argv[0],
		    strerror(e));
		pid = -1;
		goto fail;
	}

 fail:
	if (pp[0] != -1)
		close(pp[0]);
	if (pp[1] != -1)
		close(pp[1]);
	if (ep[0] != -1)
		close(ep[0]);
	if (ep[1] != -1)
		close(ep[1]);
	return (pid);
}

/*
 * Field 22 of a /proc/PID/stat line.  The command name in field 2 is
 * in parentheses and may itself hold spaces and parentheses, so the
 * fields are counted from the last closing parenthesis.
 */
int
qemu_parse_stat(const char *buf, size_t len, uint64_t *starttime)
{
	const char	*p, *end = buf + len;
	char		 num[24];
	size_t		 i;
	int		 field;

	for (p = end; p > buf && p[-1] != ')'; p--)
		;
	if (p == buf)
		goto bad;
	/* p is just after ')': field 3 starts after one space. */
	for (field = 2; field < 22; field++) {
		if (p + 1 >= end || p[0] != ' ' || p[1] == ' ')
			goto bad;
		p++;
		if (field < 21)
			while (p < end && *p != ' ')
				p++;
	}
	for (i = 0; p < end && isdigit((unsigned char)*p); p++, i++) {
		if (i + 1 >= sizeof(num))
			goto bad;
		num[i] = *p;
	}
	if (i == 0 || (p < end && *p != ' ' && *p != '\n'))
		goto bad;
	num[i] = '\0';
	errno = 0;
	*starttime = strtoull(num, NULL, 10);
	if (errno != 0)
		goto bad;
	return (0);

 bad:
	errno = EINVAL;
	return (-1);
}

static ssize_t
qemu_read_proc(pid_t pid, const char *what, char *buf, size_t len)
{
	char	 path[64];
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			errno = ESRCH;
		return (-1);
	}
	while (off < len && (n = read(fd, buf + off, len - off)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			return (-1);
		}
		off += n;
	}
	close(fd);
	return (off);
}

int
qemu_starttime(pid_t pid, uint64_t *starttime)
{
	char	 buf[QEMU_STAT_MAX];
	ssize_t	 n;

	if ((n = qemu_read_proc(pid, "stat", buf, sizeof(buf))) == -1)
		return (-1);
	return (qemu_parse_stat(buf, n, starttime));
}

/*
 * 1 when pid is still the process that was launched with argv (same
 * start time, same command line), 0 when it is not, -1 on error.
 */
int
qemu_identity(pid_t pid, uint64_t starttime, char *const *argv, int argc)
{
	static char	 buf[QEMU_CMDLINE_MAX];
	uint64_t	 st;
	ssize_t		 n;
	size_t		 off = 0, l;
	int		 i;

	if (pid <= 1)
		return (0);
	if (qemu_starttime(pid, &st) == -1)
		return (errno == ESRCH ? 0 : -1);
	if (st != starttime)
		return (0);
	if ((n = qemu_read_proc(pid, "cmdline", buf, sizeof(buf))) == -1)
		return (errno == ESRCH ? 0 : -1);
	for (i = 0; i < argc; i++) {
		l = strlen(argv[i]) + 1;
		if (off + l > (size_t)n || memcmp(buf + off, argv[i], l) != 0)
			return (0);
		off += l;
	}
	return (off == (size_t)n);
}

/* The last lines of a log in the state root, for a failure message. */
int
qemu_tail(int dirfd, const char *path, char *buf, size_t len)
{
	char	 raw[QEMU_TAIL_BYTES + 1];
	char	*p, *start;
	off_t	 size;
	ssize_t	 n;
	int	 fd, lines = 0;

	buf[0] = '\0';
	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1)
		return (-1);
	if ((size = lseek(fd, 0, SEEK_END)) == -1 ||
	    lseek(fd, size > QEMU_TAIL_BYTES ? size - QEMU_TAIL_BYTES : 0,
	    SEEK_SET) == -1 || (n = read(fd, raw, QEMU_TAIL_BYTES)) == -1) {
		close(fd);
		return (-1);
	}
	close(fd);
	raw[n] = '\0';
	for (p = raw; p < raw + n; p++)
		if (*p == '\0' || *p == '\r' ||
		    (!isprint((unsigned char)*p) && *p != '\n'))
			*p = '?';
	while (n > 0 && raw[n - 1] == '\n')
		raw[--n] = '\0';
	for (start = raw + n; start > raw; start--)
		if (start[-1] == '\n' && ++lines == VMM_TAIL_LINES)
			break;
	/* Keep the newest lines when they do not all fit. */
	if (strlen(start) >= len)
		start += strlen(start) - len + 1;
	strlcpy(buf, start, len);
	return (0);
}

/* run/<vm>.token, for QEMU to hand to the guest through fw_cfg. */
int
qemu_write_token(int dirfd, const char *vm, const char *token)
{
	char	 path[VM_NAME_MAX + 16];
	size_t	 len = strlen(token);
	int	 fd;

	snprintf(path, sizeof(path), "run/%s.token", vm);
	if (unlinkat(dirfd, path, 0) == -1 && errno != ENOENT)
		return (-1);
	if ((fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return (-1);
	if (write(fd, token, len) != (ssize_t)len) {
		close(fd);
		unlinkat(dirfd, path, 0);
		return (-1);
	}
	close(fd);
	return (0);
}

/*
 * run/<vm>-bootstrap.tar, copied from the descriptor castra packed it
 * in (a sealed memory file), for QEMU to hand to the guest through
 * fw_cfg; with fd -1, remove an earlier boot's.
 */
int
qemu_write_bootstrap(int dirfd, const char *vm, int fd)
{
	struct stat	 st;
	char		 path[VM_NAME_MAX + 32], buf[65536];
	size_t		 total = 0;
	ssize_t		 n;
	int		 out;

	snprintf(path, sizeof(path), "run/%s-bootstrap.tar", vm);
	if (unlinkat(dirfd, path, 0) == -1 && errno != ENOENT)
		return (-1);
	if (fd == -1)
		return (0);
	/* castrad checked it too: a pipe would stall the event loop. */
	if (fstat(fd, &st) == -1)
		return (-1);
	if (!S_ISREG(st.st_mode) || st.st_size > CTL_BOOTSTRAP_MAX) {
		errno = EINVAL;
		return (-1);
	}
	if (lseek(fd, 0, SEEK_SET) == -1 || (out = openat(dirfd, path,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return (-1);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		/* castra packs at most 64 MiB; more is not from castra. */
		if (n != -1 && (total += n) > CTL_BOOTSTRAP_MAX) {
			n = -1;
			errno = EFBIG;
		}
		if (n == -1 || write(out, buf, n) != n) {
			close(out);
			unlinkat(dirfd, path, 0);
			return (-1);
		}
	}
	if (close(out) == -1) {
		unlinkat(dirfd, path, 0);
		return (-1);
	}
	return (0);
}

/* Remove run/<vm>.qmp, run/<vm>.token and run/<vm>-bootstrap.tar. */
void
qemu_remove_run(int dirfd, const char *vm)
{
	char	 path[VM_NAME_MAX + 32];

	snprintf(path, sizeof(path), "run/%s.qmp", vm);
	if (unlinkat(dirfd, path, 0) == -1 && errno != ENOENT)
		log_warn("%s: remove %s", vm, path);
	snprintf(path, sizeof(path), "run/%s.token", vm);
	if (unlinkat(dirfd, path, 0) == -1 && errno != ENOENT)
		log_warn("%s: remove %s", vm, path);
	snprintf(path, sizeof(path), "run/%s-bootstrap.tar", vm);
	if (unlinkat(dirfd, path, 0) == -1 && errno != ENOENT)
		log_warn("%s: remove %s", vm, path);
}
