/*
 * Talking to castrad.  CASTRA_SOCKET, when set, names the one to use.
 * Unless CASTRA_HOME is set, a castrad running as the system's service
 * is used when it answers.  Otherwise a user's
 * castrad listens on $CASTRA_HOME/castrad.sock; when none answers
 * there, the client starts one in the background and waits for it.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "imsg.h"
#include "proto.h"
#include "state.h"

#define CLIENT_START_TRIES	100	/* of 50 ms: castrad starting */
#define CLIENT_SYSTEM_SOCKET	"/var/lib/castra/castrad.sock"

static int
client_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * castrad is found beside the program, in ../sbin from it, or where
 * it was installed.
 */
static int
client_castrad_path(char *buf, size_t len)
{
	char	 self[PATH_MAX], *dir;
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) != -1) {
		self[n] = '\0';
		dir = dirname(self);
		snprintf(buf, len, "%s/castrad", dir);
		if (access(buf, X_OK) == 0)
			return (0);
		snprintf(buf, len, "%s/../sbin/castrad", dir);
		if (access(buf, X_OK) == 0)
			return (0);
	}
	snprintf(buf, len, "%s/castrad", CASTRA_SBINDIR);
	return (access(buf, X_OK));
}

/* Start a castrad of our own; it puts itself in the background. */
static int
client_start_castrad(const char *home, struct castra_error *ce)
{
	char	 path[PATH_MAX];
	pid_t	 pid;
	int	 status, null;

	if (client_castrad_path(path, sizeof(path)) == -1) {
		castra_seterr(ce, 69, "castrad is not running and was not "
		    "found beside castra or in %s; install castra",
		    CASTRA_SBINDIR);
		return (-1);
	}
	switch (pid = fork()) {
	case -1:
		castra_seterr(ce, 69, "fork: %s", strerror(errno));
		return (-1);
	case 0:
		if ((null = open("/dev/null", O_RDWR)) != -1) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		setsid();
		execl(path, "castrad", "-H", home, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		castra_seterr(ce, 69, "%s did not start; run `%s -d -H %s` to "
		    "see why", path, path, home);
		return (-1);
	}
	return (0);
}

static int
client_hello(struct client *cl, struct castra_error *ce)
{
	struct ctl_hello	 ch;

	memset(&ch, 0, sizeof(ch));
	ch.ch_version = CASTRA_PROTO_VERSION;
	snprintf(ch.ch_software, sizeof(ch.ch_software), "castra %s",
	    CASTRA_VERSION);
	return (client_send(cl, IMSG_CTL_HELLO, -1, &ch, sizeof(ch), ce));
}

/*
 * The home of the castrad that client_open() would reach, whose image
 * cache is the one castra shows: beside CASTRA_SOCKET, the system's
 * when it answers and CASTRA_HOME is unset, else CASTRA_HOME.
 */
int
client_home(char *buf, size_t len)
{
	const char	*env, *p;
	int		 fd;

	if ((env = getenv("CASTRA_SOCKET")) != NULL && *env != '\0') {
		if ((p = strrchr(env, '/')) == NULL)
			return (state_home(buf, len));
		if ((size_t)(p - env) >= len) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		if (p == env)
			p++;
		memcpy(buf, env, p - env);
		buf[p - env] = '\0';
		return (0);
	}
	if (getenv("CASTRA_HOME") == NULL &&
	    (fd = client_connect(CLIENT_SYSTEM_SOCKET)) != -1) {
		close(fd);
		if (strlcpy(buf, CLIENT_SYSTEM_SOCKET, len) >= len) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		*strrchr(buf, '/') = '\0';
		return (0);
	}
	return (state_home(buf, len));
}

/* A connected socket becomes the client's channel to castrad. */
static int
client_ready(struct client *cl, int fd, struct castra_error *ce)
{
	cl->cl_fd = fd;
	if (imsgbuf_init(&cl->cl_ibuf, fd) == -1) {
		close(fd);
		castra_seterr(ce, 70, "imsgbuf_init: %s", strerror(errno));
		return (-1);
	}
	imsgbuf_allow_fdpass(&cl->cl_ibuf);
	return (client_hello(cl, ce));
}

int
client_open(struct client *cl, struct castra_error *ce)
{
	const char	*env;
	char		 home[PATH_MAX], sock[PATH_MAX];
	int		 i, fd;

	if (state_home(home, sizeof(home)) == -1 ||
	    snprintf(sock, sizeof(sock), "%s/castrad.sock", home) >=
	    (int)sizeof(sock)) {
		castra_seterr(ce, 70, "cannot find CASTRA_HOME: set it or "
		    "HOME");
		return (-1);
	}
	/*
	 * CASTRA_SOCKET names the castrad to use, typically a system one
	 * elsewhere than /var/lib/castra; the state stays in CASTRA_HOME.
	 * It is never started from here: it is someone else's.
	 */
	if ((env = getenv("CASTRA_SOCKET")) != NULL && *env != '\0') {
		if ((fd = client_connect(env)) == -1) {
			castra_seterr(ce, 69, "castrad does not answer on %s "
			    "(CASTRA_SOCKET): %s", env, strerror(errno));
			return (-1);
		}
		return (client_ready(cl, fd, ce));
	}
	/* The system's castrad serves users who did not choose a home. */
	fd = -1;
	if (getenv("CASTRA_HOME") == NULL)
		fd = client_connect(CLIENT_SYSTEM_SOCKET);
	if (fd == -1 && (fd = client_connect(sock)) == -1) {
		if (state_mkpath(home) == -1) {
			castra_seterr(ce, 73, "%s: %s", home, strerror(errno));
			return (-1);
		}
		if (client_start_castrad(home, ce) == -1)
			return (-1);
		for (i = 0; i < CLIENT_START_TRIES; i++) {
			if ((fd = client_connect(sock)) != -1)
				break;
			usleep(50 * 1000);
		}
	}
	if (fd == -1) {
		castra_seterr(ce, 69, "castrad does not answer on %s: %s; run "
		    "`castrad -d -H %s` to see why", sock, strerror(errno),
		    home);
		return (-1);
	}
	return (client_ready(cl, fd, ce));
}

int
client_send(struct client *cl, uint32_t type, int fd, const void *data,
    size_t len, struct castra_error *ce)
{
	if (imsg_compose(&cl->cl_ibuf, type, 0, 0, fd, data, len) == -1 ||
	    imsgbuf_flush(&cl->cl_ibuf) == -1) {
		castra_seterr(ce, 69, "castrad went away: %s",
		    strerror(errno));
		return (-1);
	}
	return (0);
}

static void
client_event(struct imsg *imsg, castra_event_fn *fn, void *arg)
{
	struct ctl_event	 ce;
	struct castra_event	 ev;

	if (proto_read_event(imsg, &ce) == -1 || fn == NULL ||
	    ce.ce_type >= CASTRA_EV_MAX)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.ev_type = ce.ce_type;
	ev.ev_vm = ce.ce_vm;
	ev.ev_text = ce.ce_text;
	ev.ev_num = ce.ce_num1;
	ev.ev_done = ce.ce_num1;
	ev.ev_total = ce.ce_num2;
	ev.ev_ms = ce.ce_num3;
	fn(&ev, arg);
}

/* Pass events on until castrad's result; 0 if it says all went well. */
static int
client_handle(struct client *cl, struct imsg *imsg, castra_event_fn *fn,
    void *arg, struct castra_error *ce)
{
	struct ctl_hello	 ch;
	struct ctl_result	 cr;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_HELLO:
		if (imsg_get_data(imsg, &ch, sizeof(ch)) == -1 ||
		    ch.ch_version != CASTRA_PROTO_VERSION) {
			castra_seterr(ce, 70, "castrad speaks another "
			    "control protocol than castra %s; stop castrad "
			    "and use one version", CASTRA_VERSION);
			return (-1);
		}
		return (1);
	case IMSG_CTL_EVENT:
		client_event(imsg, fn, arg);
		return (1);
	case IMSG_CTL_RESULT:
		if (proto_read_result(imsg, &cr) == -1) {
			castra_seterr(ce, 70, "castrad sent a bad result");
			return (-1);
		}
		if (cr.cr_status == 0)
			return (0);
		castra_seterr(ce, cr.cr_status, "%s", cr.cr_message);
		return (-1);
	default:
		castra_seterr(ce, 70, "castrad sent message type %u",
		    imsg_get_type(imsg));
		return (-1);
	}
}

int
client_wait(struct client *cl, castra_event_fn *fn, void *arg,
    struct castra_error *ce)
{
	struct imsg	 imsg;
	ssize_t		 n;
	int		 rv;

	for (;;) {
		while ((n = imsgbuf_get(&cl->cl_ibuf, &imsg)) == 1) {
			rv = client_handle(cl, &imsg, fn, arg, ce);
			imsg_free(&imsg);
			if (rv <= 0)
				return (rv);
		}
		if (n == -1 || (n = imsgbuf_read(&cl->cl_ibuf)) == -1) {
			if (n == -1 && errno == EINTR)
				continue;
			castra_seterr(ce, 69, "castrad: %s", strerror(errno));
			return (-1);
		}
		if (n == 0) {
			castra_seterr(ce, 69, "castrad closed the connection; "
			    "see its log (syslog, or run castrad -d)");
			return (-1);
		}
	}
}

void
client_close(struct client *cl)
{
	imsgbuf_clear(&cl->cl_ibuf);
	close(cl->cl_fd);
}
