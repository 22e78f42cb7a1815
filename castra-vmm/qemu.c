/*
 * QEMU processes: the command line, the launch, and telling later that a
 * pid is still the QEMU that was launched.
 *
 * Every project's QEMU runs as the one _castra user, in a state root
 * whose owner may put links in it at any time, so QEMU opens nothing
 * there by name: castra-vmm makes the overlay, the logs, the QMP socket
 * and the fw_cfg files itself, never through a link (lib/beneath.c), and
 * QEMU gets them as descriptors: the disk and the serial console through
 * -add-fd and /dev/fdset, the listening QMP socket by number, and the
 * fw_cfg files, which QEMU reads by path only, through /proc/self/fd.
 * The state root stays its working directory, as that is what tells a
 * QEMU of this state root from any other (stray.c, vmm_in_root).
 *
 * It is started through a double fork in a session of its own: it is
 * nobody's child to reap, it gets no parent-death signal, and it
 * outlives castra-vmm and castrad, which adopt it again when they come
 * back.
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
#include "state.h"
#include "vmm.h"

#define QEMU_STAT_MAX		1024
#define QEMU_CMDLINE_MAX	(VMM_ARGV_MAX * VMM_ARG_MAX)
#define QEMU_TAIL_BYTES		4096
#define QEMU_SET_DISK		1	/* -add-fd sets, as /dev/fdset/N */
#define QEMU_SET_SERIAL		2
#define QEMU_FD(i)		(QEMU_FD_BASE + (i))

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
	    qemu_add(vm, "name=opt/castra/token,file=/proc/self/fd/%d",
	    QEMU_FD(QEMU_FD_TOKEN)) == -1))
		return (-1);
	if (vm->vm_bootstrap && (qemu_add(vm, "-fw_cfg") == -1 ||
	    qemu_add(vm, "name=opt/castra/bootstrap,file=/proc/self/fd/%d",
	    QEMU_FD(QEMU_FD_BOOTSTRAP)) == -1))
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
 * The disk, the serial console and QMP, on the descriptors qemu_exec
 * puts in place.  The disk's set holds the overlay twice, since QEMU
 * opens it read-only to probe it before it opens it for writing.
 */
static int
qemu_argv_fds(struct vmm_guest *vm)
{
	if (qemu_add(vm, "-add-fd") == -1 ||
	    qemu_add(vm, "fd=%d,set=%d", QEMU_FD(QEMU_FD_DISK),
	    QEMU_SET_DISK) == -1 ||
	    qemu_add(vm, "-add-fd") == -1 ||
	    qemu_add(vm, "fd=%d,set=%d", QEMU_FD(QEMU_FD_DISK_RO),
	    QEMU_SET_DISK) == -1 ||
	    qemu_add(vm, "-add-fd") == -1 ||
	    qemu_add(vm, "fd=%d,set=%d", QEMU_FD(QEMU_FD_SERIAL),
	    QEMU_SET_SERIAL) == -1 ||
	    qemu_add(vm, "-chardev") == -1 ||
	    qemu_add(vm, "socket,id=qmp,fd=%d,server=on,wait=off",
	    QEMU_FD(QEMU_FD_QMP)) == -1 ||
	    qemu_add(vm, "-mon") == -1 ||
	    qemu_add(vm, "chardev=qmp,mode=control") == -1 ||
	    qemu_add(vm, "-serial") == -1 ||
	    qemu_add(vm, "file:/dev/fdset/%d", QEMU_SET_SERIAL) == -1 ||
	    qemu_add(vm, "-drive") == -1 ||
	    qemu_add(vm, "file=/dev/fdset/%d,if=virtio,format=qcow2",
	    QEMU_SET_DISK) == -1)
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
	    "spawn=deny,resourcecontrol=deny") == -1)
		goto fail;
	if (qemu_argv_fds(vm) == -1 ||
	    qemu_argv_forwards(vm, vs) == -1 ||
	    qemu_argv_fwcfg(vm, vs) == -1 ||
	    qemu_argv_boot(vm, vs, home) == -1)
		goto fail;
	return (0);

 fail:
	qemu_argv_free(vm);
	return (-1);
}

/*
 * Put errfd on 3, each of the VM's descriptors on QEMU_FD(its index)
 * and the log on standard output and error.  All are first lifted
 * above that range, so that putting one in place never closes another.
 */
static int
qemu_place_fds(struct vmm_guest *vm, int *errfd)
{
	int	*fds = vm->vm_qemufds, top = QEMU_FD(QEMU_NFDS), i;

	if ((*errfd = fcntl(*errfd, F_DUPFD_CLOEXEC, top)) == -1)
		return (-1);
	for (i = 0; i < QEMU_NFDS; i++)
		if (fds[i] != -1 && (fds[i] = fcntl(fds[i], F_DUPFD, top)) ==
		    -1)
			return (-1);
	if (dup2(*errfd, 3) == -1 || fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
		return (-1);
	*errfd = 3;
	if (dup2(fds[QEMU_FD_LOG], STDOUT_FILENO) == -1 ||
	    dup2(fds[QEMU_FD_LOG], STDERR_FILENO) == -1)
		return (-1);
	for (i = 0; i < QEMU_FD_LOG; i++) {
		if (fds[i] == -1)
			close(QEMU_FD(i));
		else if (dup2(fds[i], QEMU_FD(i)) == -1)
			return (-1);
	}
	/* Nothing else of castra-vmm's leaks into QEMU. */
	closefrom(QEMU_FD(QEMU_FD_LOG));
	return (0);
}

/* The grandchild: becomes QEMU, or says on errfd why it could not. */
__attribute__((__noreturn__)) static void
qemu_exec(struct vmm_guest *vm, int errfd)
{
	sigset_t	 set;
	int		 fd, e;

	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);

	if (setsid() == -1 || fchdir(vm->vm_dirfd) == -1)
		goto fail;
	if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1)
		goto fail;
	if (qemu_place_fds(vm, &errfd) == -1)
		goto fail;
	execv(vm->vm_argv[0], vm->vm_argv);
 fail:
	e = errno;
	(void)write(errfd, &e, sizeof(e));
	_exit(127);
}

/*
 * A log QEMU writes, made anew at path in place of whatever had that
 * name, and kept for the launch.
 */
int
qemu_create(struct vmm_guest *vm, enum qemu_fd which, const char *path)
{
	if ((vm->vm_qemufds[which] = beneath_create(vm->vm_dirfd, path,
	    O_WRONLY, 0640)) == -1)
		return (-1);
	return (0);
}

/* Once QEMU has them, or will not run: castra-vmm needs none of them. */
void
qemu_fds_close(struct vmm_guest *vm)
{
	int	 i;

	for (i = 0; i < QEMU_NFDS; i++) {
		if (vm->vm_qemufds[i] != -1)
			close(vm->vm_qemufds[i]);
		vm->vm_qemufds[i] = -1;
	}
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
	if ((fd = beneath_open(dirfd, path, O_RDONLY, 0)) == -1)
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

/*
 * run/<vm>.token, for QEMU to hand to the guest through fw_cfg, and for
 * castrad to read again after a restart; returns its descriptor.
 */
int
qemu_write_token(int dirfd, const char *vm, const char *token)
{
	char	 path[VM_NAME_MAX + 16];
	size_t	 len = strlen(token);
	int	 fd;

	snprintf(path, sizeof(path), "run/%s.token", vm);
	if ((fd = beneath_create(dirfd, path, O_WRONLY, 0600)) == -1)
		return (-1);
	if (write(fd, token, len) != (ssize_t)len) {
		close(fd);
		beneath_unlink(dirfd, path);
		return (-1);
	}
	return (fd);
}

/*
 * run/<vm>-bootstrap.tar, copied from the descriptor castra packed it
 * in (a sealed memory file), for QEMU to hand to the guest through
 * fw_cfg; returns the copy's descriptor.
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
	/* castrad checked it too: a pipe would stall the event loop. */
	if (fstat(fd, &st) == -1)
		return (-1);
	if (!S_ISREG(st.st_mode) || st.st_size > CTL_BOOTSTRAP_MAX) {
		errno = EINVAL;
		return (-1);
	}
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    (out = beneath_create(dirfd, path, O_WRONLY, 0600)) == -1)
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
			beneath_unlink(dirfd, path);
			return (-1);
		}
	}
	return (out);
}

static void
qemu_remove(int dirfd, const char *vm, const char *path)
{
	if (beneath_unlink(dirfd, path) == -1)
		log_warn("%s: remove %s", vm, path);
}

/* Remove run/<vm>.qmp, run/<vm>.token and run/<vm>-bootstrap.tar. */
void
qemu_remove_run(int dirfd, const char *vm)
{
	char	 path[VM_NAME_MAX + 32];

	snprintf(path, sizeof(path), "run/%s.qmp", vm);
	qemu_remove(dirfd, vm, path);
	snprintf(path, sizeof(path), "run/%s.token", vm);
	qemu_remove(dirfd, vm, path);
	snprintf(path, sizeof(path), "run/%s-bootstrap.tar", vm);
	qemu_remove(dirfd, vm, path);
}
