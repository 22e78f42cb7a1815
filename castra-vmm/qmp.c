/*
 * A QMP client that never blocks the event loop.  One connection per
 * VM, made once QEMU listens and kept for the VM's life: it reads the
 * greeting, negotiates capabilities, and then carries system_powerdown
 * whenever a stop asks for it.  Replies and events are read and
 * checked as lines of JSON; only their kind matters here.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "vmm.h"

static void	qmp_io(int, short, void *);
static int	qmp_flush(struct qmp *);
static void	qmp_arm(struct qmp *);

void
qmp_init(struct qmp *q, void (*ready)(void *), void *arg)
{
	memset(q, 0, sizeof(*q));
	q->q_fd = -1;
	q->q_state = QMP_CLOSED;
	q->q_ready = ready;
	q->q_arg = arg;
}

/* sun_path for what fd, opened by castra-vmm, names, and name in it. */
static int
qmp_sun(struct sockaddr_un *sun, int fd, const char *name)
{
	int	 n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path),
	    "/proc/self/fd/%d%s%s", fd, name != NULL ? "/" : "",
	    name != NULL ? name : "");
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/*
 * The QMP socket of VM vm, run/<vm>.qmp, bound and listening before
 * QEMU starts, for QEMU to take as a descriptor: QEMU itself would
 * remove whatever had the name and bind through any link on the way.
 * The run directory is opened without following a link, and bound in
 * through /proc/self/fd, which also keeps sun_path short.
 */
int
qmp_listen(int dirfd, const char *vm)
{
	struct sockaddr_un	 sun;
	char			 name[VM_NAME_MAX + 8];
	int			 rundir, fd = -1, saved;

	snprintf(name, sizeof(name), "%s.qmp", vm);
	if ((rundir = beneath_open(dirfd, STATE_RUN, O_RDONLY | O_DIRECTORY,
	    0)) == -1)
		return (-1);
	if ((unlinkat(rundir, name, 0) == -1 && errno != ENOENT) ||
	    qmp_sun(&sun, rundir, name) == -1 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 1) == -1) {
		saved = errno;
		if (fd != -1)
			close(fd);
		close(rundir);
		errno = saved;
		return (-1);
	}
	close(rundir);
	return (fd);
}

/*
 * Connect to the socket at path below dirfd, one that castra-vmm bound:
 * never through a link (ELOOP), nor to a socket with a second name or
 * of another user's making (EPERM), which the owner of the state root
 * could put there to point castra-vmm at another user's QEMU.  Returns
 * 0 once connected, -1 with errno (ENOENT or ECONNREFUSED while QEMU
 * is not there).
 */
int
qmp_connect(struct qmp *q, int dirfd, const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd = -1, sock, e;

	if ((sock = beneath_open(dirfd, path, O_PATH, 0)) == -1)
		return (-1);
	if (fstat(sock, &st) == -1)
		goto fail;
	if (!S_ISSOCK(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		errno = EPERM;
		goto fail;
	}
	if (qmp_sun(&sun, sock, NULL) == -1 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto fail;
	close(sock);
	q->q_fd = fd;
	q->q_inlen = q->q_outlen = 0;
	q->q_state = QMP_GREETING;
	qmp_arm(q);
	return (0);

 fail:
	e = errno;
	if (fd != -1)
		close(fd);
	close(sock);
	errno = e;
	return (-1);
}

void
qmp_close(struct qmp *q)
{
	if (q->q_fd != -1) {
		event_del(&q->q_ev);
		close(q->q_fd);
	}
	q->q_fd = -1;
	q->q_inlen = q->q_outlen = 0;
	q->q_state = QMP_CLOSED;
}

static void
qmp_arm(struct qmp *q)
{
	short	 what = EV_READ | EV_PERSIST;

	if (q->q_outlen > 0)
		what |= EV_WRITE;
	if (event_initialized(&q->q_ev))
		event_del(&q->q_ev);
	event_set(&q->q_ev, q->q_fd, what, qmp_io, q);
	event_add(&q->q_ev, NULL);
}

/* Queue one command; it goes out as soon as the socket takes it. */
int
qmp_send(struct qmp *q, const char *cmd)
{
	size_t	 len = strlen(cmd);

	if (q->q_fd == -1) {
		errno = ENOTCONN;
		return (-1);
	}
	if (q->q_outlen + len + 1 > sizeof(q->q_out)) {
		errno = ENOBUFS;
		return (-1);
	}
	memcpy(q->q_out + q->q_outlen, cmd, len);
	q->q_out[q->q_outlen + len] = '\n';
	q->q_outlen += len + 1;
	if (qmp_flush(q) == -1)
		return (-1);
	qmp_arm(q);
	return (0);
}

static int
qmp_flush(struct qmp *q)
{
	ssize_t	 n;

	while (q->q_outlen > 0) {
		if ((n = write(q->q_fd, q->q_out, q->q_outlen)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return (0);
			return (-1);
		}
		memmove(q->q_out, q->q_out + n, q->q_outlen - n);
		q->q_outlen -= n;
	}
	return (0);
}

/*
 * Classify one line from QEMU: QMP_MSG_GREETING, QMP_MSG_RETURN,
 * QMP_MSG_ERROR or QMP_MSG_EVENT; -1 when it is not a QMP message.
 */
int
qmp_parse_line(const char *line, size_t len, int *kind)
{
	json_t	*o;
	int	 rc = 0;

	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL)
		return (-1);
	if (!json_is_object(o))
		rc = -1;
	else if (json_is_object(json_object_get(o, "QMP")))
		*kind = QMP_MSG_GREETING;
	else if (json_object_get(o, "return") != NULL)
		*kind = QMP_MSG_RETURN;
	else if (json_is_object(json_object_get(o, "error")))
		*kind = QMP_MSG_ERROR;
	else if (json_is_string(json_object_get(o, "event")))
		*kind = QMP_MSG_EVENT;
	else
		rc = -1;
	json_decref(o);
	return (rc);
}

static int
qmp_line(struct qmp *q, const char *line, size_t len)
{
	int	 kind;

	if (qmp_parse_line(line, len, &kind) == -1)
		return (-1);
	switch (q->q_state) {
	case QMP_GREETING:
		if (kind != QMP_MSG_GREETING)
			return (-1);
		q->q_state = QMP_CAPABILITIES;
		return (qmp_send(q, "{\"execute\":\"qmp_capabilities\"}"));
	case QMP_CAPABILITIES:
		if (kind == QMP_MSG_EVENT)
			return (0);
		if (kind != QMP_MSG_RETURN)
			return (-1);
		q->q_state = QMP_READY;
		if (q->q_ready != NULL)
			q->q_ready(q->q_arg);
		return (0);
	case QMP_READY:
		/* A powerdown lost early is repeated, so errors are logged. */
		if (kind == QMP_MSG_ERROR)
			log_debug("%s: QMP error: %.*s", __func__, (int)len,
			    line);
		return (0);
	default:
		return (-1);
	}
}

static void
qmp_io(int fd, short event, void *arg)
{
	struct qmp	*q = arg;
	char		*nl;
	ssize_t		 n;
	size_t		 used;

	if ((event & EV_WRITE) && qmp_flush(q) == -1)
		goto fail;
	if (event & EV_READ) {
		n = read(fd, q->q_in + q->q_inlen,
		    sizeof(q->q_in) - q->q_inlen);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			goto fail;
		q->q_inlen += n;
		while ((nl = memchr(q->q_in, '\n', q->q_inlen)) != NULL) {
			used = nl - q->q_in + 1;
			if (qmp_line(q, q->q_in, used - 1) == -1)
				goto fail;
			if (q->q_fd == -1)
				return;
			memmove(q->q_in, q->q_in + used, q->q_inlen - used);
			q->q_inlen -= used;
		}
		/* A line longer than the buffer is not QMP as we know it. */
		if (q->q_inlen == sizeof(q->q_in))
			goto fail;
	}
	if (q->q_fd != -1)
		qmp_arm(q);
	return;

 fail:
	log_debug("%s: QMP connection closed", __func__);
	qmp_close(q);
}
