/*
 * castrad under systemd(1): readiness, the control socket systemd
 * listens on for it, and the file descriptor store that keeps the state
 * roots of users' projects across restarts.
 *
 * The protocol is a datagram to $NOTIFY_SOCKET, with descriptors as
 * SCM_RIGHTS, and descriptors passed from 3 on with LISTEN_PID,
 * LISTEN_FDS and LISTEN_FDNAMES: small enough to speak here rather
 * than link libsystemd.  Without $NOTIFY_SOCKET every call is a no-op.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castrad.h"
#include "log.h"

#define SD_LISTEN_FDS_START	3
#define SD_NAME_MAX		255	/* systemd's limit on FDNAME= */

struct sdfd {
	char	 sf_name[SD_NAME_MAX + 1];
	int	 sf_fd;			/* -1 once taken or closed */
};

static struct sockaddr_un	 sd_sun;
static socklen_t		 sd_sunlen;
static struct sdfd		*sd_fds;
static size_t			 sd_nfds;

/* $NOTIFY_SOCKET: a path, or an abstract name after '@'. */
static void
sd_notify_init(void)
{
	const char	*s;
	size_t		 len;

	if ((s = getenv("NOTIFY_SOCKET")) == NULL)
		return;
	len = strlen(s);
	if ((s[0] != '/' && s[0] != '@') || len < 2 ||
	    len >= sizeof(sd_sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s is not a socket; systemd will "
		    "not hear from castrad", s);
		return;
	}
	memset(&sd_sun, 0, sizeof(sd_sun));
	sd_sun.sun_family = AF_UNIX;
	memcpy(sd_sun.sun_path, s, len);
	if (s[0] == '@')
		sd_sun.sun_path[0] = '\0';
	sd_sunlen = offsetof(struct sockaddr_un, sun_path) + len;
}

/*
 * The descriptors systemd passed, by name.  They are close-on-exec from
 * now on: the children find their channel to castrad on descriptor 3,
 * where the first of these is, and must inherit none of them.
 */
static void
sd_listen_init(void)
{
	const char	*s;
	char		*names, *p, *name;
	size_t		 i;
	int		 n;

	if ((s = getenv("LISTEN_PID")) == NULL ||
	    strtonum(s, 1, INT32_MAX, NULL) != getpid())
		return;
	if ((s = getenv("LISTEN_FDS")) == NULL ||
	    (n = strtonum(s, 1, 65536, NULL)) == 0)
		return;
	if ((sd_fds = calloc(n, sizeof(*sd_fds))) == NULL)
		fatal("%s", __func__);
	/* Without names (systemd < 227), every one is unnamed. */
	s = getenv("LISTEN_FDNAMES");
	if ((names = strdup(s != NULL ? s : "")) == NULL)
		fatal("%s", __func__);
	p = names;
	for (i = 0; i < (size_t)n; i++) {
		sd_fds[i].sf_fd = SD_LISTEN_FDS_START + i;
		if (fcntl(sd_fds[i].sf_fd, F_SETFD, FD_CLOEXEC) == -1)
			fatal("descriptor %d from systemd", sd_fds[i].sf_fd);
		if ((name = strsep(&p, ":")) != NULL)
			strlcpy(sd_fds[i].sf_name, name,
			    sizeof(sd_fds[i].sf_name));
	}
	free(names);
	sd_nfds = n;
}

/*
 * What systemd told castrad, once, before any child starts; the
 * children, and what they start, must not take it for theirs.
 */
void
sd_init(void)
{
	sd_notify_init();
	sd_listen_init();
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/* Send state to systemd, with fd as SCM_RIGHTS unless it is -1. */
static int
sd_send(int fd, const char *fmt, ...)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 msg;
	struct iovec	 iov;
	va_list		 ap;
	char		 text[512];
	int		 s, n, rv = -1;

	if (sd_sunlen == 0)
		return (0);
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		errno = EMSGSIZE;
		return (-1);
	}
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = text;
	iov.iov_len = n;
	msg.msg_name = &sd_sun;
	msg.msg_namelen = sd_sunlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	if (sendmsg(s, &msg, MSG_NOSIGNAL) == n)
		rv = 0;
	close(s);
	return (rv);
}

/* The service may be used now. */
void
sd_ready(void)
{
	if (sd_send(-1, "READY=1") == -1)
		log_warn("cannot tell systemd that castrad is ready");
}

void
sd_stopping(void)
{
	(void)sd_send(-1, "STOPPING=1");
}

/*
 * The descriptor systemd passed under name, now castrad's, or -1.  The
 * store may hold the same name more than once (a castrad killed between
 * replacing an entry and removing the old one): the first is kept, the
 * others close.
 */
int
sd_take(const char *name)
{
	size_t	 i;
	int	 fd = -1;

	for (i = 0; i < sd_nfds; i++) {
		if (sd_fds[i].sf_fd == -1 ||
		    strcmp(sd_fds[i].sf_name, name) != 0)
			continue;
		if (fd == -1)
			fd = sd_fds[i].sf_fd;
		else
			close(sd_fds[i].sf_fd);
		sd_fds[i].sf_fd = -1;
	}
	return (fd);
}

/*
 * Keep fd in systemd's store under name, in place of what is there:
 * castrad started again gets it back.  FDPOLL=0: systemd would watch
 * a stored descriptor for errors, and a directory cannot be polled.
 */
void
sd_store(const char *name, int fd)
{
	if (sd_sunlen == 0)
		return;
	sd_unstore(name);
	if (sd_send(fd, "FDSTORE=1\nFDNAME=%s\nFDPOLL=0", name) == -1)
		log_warn("%s: cannot keep the state root with systemd", name);
}

void
sd_unstore(const char *name)
{
	if (sd_send(-1, "FDSTOREREMOVE=1\nFDNAME=%s", name) == -1)
		log_warn("%s: cannot remove the state root from systemd's "
		    "store", name);
}

/*
 * What nothing took: state roots of projects that are no longer up.
 * systemd lets go of them too.
 */
void
sd_drop_rest(void)
{
	size_t	 i;

	for (i = 0; i < sd_nfds; i++) {
		if (sd_fds[i].sf_fd == -1)
			continue;
		log_info("%s: a descriptor kept by systemd that no project "
		    "claims; closed", sd_fds[i].sf_name[0] != '\0' ?
		    sd_fds[i].sf_name : "unnamed");
		close(sd_fds[i].sf_fd);
		sd_fds[i].sf_fd = -1;
		if (sd_fds[i].sf_name[0] != '\0')
			sd_unstore(sd_fds[i].sf_name);
	}
	free(sd_fds);
	sd_fds = NULL;
	sd_nfds = 0;
}
