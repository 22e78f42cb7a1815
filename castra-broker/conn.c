/*
 * Connections before and during their hello.  Every one gets the
 * greeting at once and has BROKER_HELLO_TIMEOUT seconds in total (not
 * per read) to send its line into a buffer of HELLO_LINE_MAX bytes, so
 * a slow or silent client costs one descriptor and well under 1 KiB,
 * and never delays anyone else.  When the connection cap is reached,
 * the oldest connection still owing its hello is dropped to make room;
 * it is recorded as a timeout with reason "evicted".
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

#define CONN_ACCEPT_BATCH	128
#define CONN_PAUSE_MS		200	/* out of descriptors */

static struct conns	 conn_pending = TAILQ_HEAD_INITIALIZER(conn_pending);

static void	conn_new(struct project *, int, struct sockaddr_storage *);
static void	conn_read(int, short, void *);
static void	conn_arm(struct conn *);
static void	conn_line(struct conn *, size_t);
static void	conn_deny(struct conn *, int64_t, const char *, const char *,
		    enum session_kind, const char *, const char *);
static void	conn_free(struct conn *);
static void	conn_resume(int, short, void *);

void
conn_listen(struct project *pj, int fd)
{
	conn_unlisten(pj);
	pj->pj_listenfd = fd;
	event_set(&pj->pj_listen_ev, fd, EV_READ | EV_PERSIST, conn_accept,
	    pj);
	event_add(&pj->pj_listen_ev, NULL);
	evtimer_set(&pj->pj_pause_ev, conn_resume, pj);
}

void
conn_unlisten(struct project *pj)
{
	if (pj->pj_listenfd == -1)
		return;
	event_del(&pj->pj_listen_ev);
	if (evtimer_pending(&pj->pj_pause_ev, NULL))
		evtimer_del(&pj->pj_pause_ev);
	close(pj->pj_listenfd);
	pj->pj_listenfd = -1;
}

/* Out of descriptors and nobody to evict: stop accepting for a while. */
static void
conn_pause(struct project *pj)
{
	struct timeval	 tv = { 0, CONN_PAUSE_MS * 1000 };

	event_del(&pj->pj_listen_ev);
	evtimer_add(&pj->pj_pause_ev, &tv);
}

static void
conn_resume(int fd, short event, void *arg)
{
	struct project	*pj = arg;

	if (pj->pj_listenfd != -1)
		event_add(&pj->pj_listen_ev, NULL);
}

void
conn_accept(int fd, short event, void *arg)
{
	struct project		*pj = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 i, s;

	for (i = 0; i < CONN_ACCEPT_BATCH; i++) {
		if (broker_nconns >= broker_conn_max)
			conn_evict();
		len = sizeof(ss);
		ss.ss_family = AF_UNSPEC;
		s = accept4(fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				if (conn_evict() == 0)
					continue;
				log_warn("%s: accept", pj->pj_id);
				conn_pause(pj);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("%s: accept", pj->pj_id);
			return;
		}
		if (broker_nconns >= broker_conn_max) {
			/* Every slot holds a session: refuse the newcomer. */
			close(s);
			records_log(pj, "WARN", "connection limit %d reached, "
			    "refusing a connection", broker_conn_max);
			continue;
		}
		conn_new(pj, s, &ss);
	}
}

static void
conn_remote(struct sockaddr_storage *ss, char *buf, size_t len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else
		strlcpy(buf, "unknown", len);
}

static void
conn_new(struct project *pj, int fd, struct sockaddr_storage *ss)
{
	struct conn	*cn;
	struct timespec	 ts;

	if ((cn = calloc(1, sizeof(*cn))) == NULL) {
		log_warn("%s: connection", pj->pj_id);
		close(fd);
		return;
	}
	cn->cn_project = pj;
	cn->cn_fd = fd;
	conn_remote(ss, cn->cn_remote, sizeof(cn->cn_remote));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	cn->cn_deadline.tv_sec = ts.tv_sec + pj->pj_hello_timeout;
	cn->cn_deadline.tv_usec = ts.tv_nsec / 1000;
	TAILQ_INSERT_TAIL(&conn_pending, cn, cn_entry);
	broker_nconns++;

	/*
	 * A fresh socket's send buffer is empty: the greeting fits, and a
	 * client that has gone already shows up at its first read.
	 */
	if (write(fd, BROKER_GREETING, sizeof(BROKER_GREETING) - 1) == -1)
		log_debug("%s: greeting to %s: %s", pj->pj_id, cn->cn_remote,
		    strerror(errno));
	event_set(&cn->cn_ev, fd, EV_READ, conn_read, cn);
	conn_arm(cn);
}

/* Wait for more of the line, until the connection's one deadline. */
static void
conn_arm(struct conn *cn)
{
	struct timespec	 ts;
	struct timeval	 now, tv;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now.tv_sec = ts.tv_sec;
	now.tv_usec = ts.tv_nsec / 1000;
	if (timercmp(&now, &cn->cn_deadline, >=))
		timerclear(&tv);
	else
		timersub(&cn->cn_deadline, &now, &tv);
	event_add(&cn->cn_ev, &tv);
}

static void
conn_read(int fd, short event, void *arg)
{
	struct conn	*cn = arg;
	char		*nl;
	ssize_t		 n;

	if (event & EV_TIMEOUT) {
		conn_deny(cn, broker_now_ms(), cn->cn_remote, "", KIND_GUEST,
		    "timeout", "read-timeout");
		return;
	}
	n = read(fd, cn->cn_buf + cn->cn_len, sizeof(cn->cn_buf) - cn->cn_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		conn_arm(cn);
		return;
	}
	if (n <= 0) {
		/* Gone before a whole line: nothing to answer. */
		conn_deny(cn, broker_now_ms(), cn->cn_remote, "", KIND_GUEST,
		    "denied", "io-error");
		return;
	}
	cn->cn_len += n;
	if ((nl = memchr(cn->cn_buf, '\n', cn->cn_len)) != NULL) {
		conn_line(cn, nl - cn->cn_buf);
		return;
	}
	if (cn->cn_len == sizeof(cn->cn_buf)) {
		log_debug("%s: hello from %s: line too long",
		    cn->cn_project->pj_id, cn->cn_remote);
		conn_deny(cn, broker_now_ms(), cn->cn_remote, "", KIND_GUEST,
		    "denied", "protocol-error");
		return;
	}
	conn_arm(cn);
}

/* A whole line of len bytes is in the buffer: decide and answer. */
static void
conn_line(struct conn *cn, size_t len)
{
	struct project	*pj = cn->cn_project;
	struct hello	 h;
	struct bvm	*vm;
	const char	*errstr, *reason;
	enum session_kind kind;
	char		 caps[HELLO_CAPS_STR];
	int64_t		 now = broker_now_ms();
	int		 fd;

	if (hello_parse(cn->cn_buf, len, &h, &errstr) == -1) {
		records_log(pj, "WARN", "hello from %s: %s", cn->cn_remote,
		    errstr);
		conn_deny(cn, now, cn->cn_remote, "", KIND_GUEST, "denied",
		    "protocol-error");
		return;
	}
	hello_caps_join(&h, caps, sizeof(caps));
	vm = broker_vm_find(pj, h.h_name);
	reason = hello_check(&h, pj->pj_token, vm != NULL ? vm->vm_token :
	    NULL, &kind);
	/*
	 * Every name granted keeps a record, in memory and on disk; a
	 * guest inventing names could otherwise fill both.
	 */
	if (reason == NULL && kind == KIND_GUEST && vm == NULL &&
	    pj->pj_nvms >= BROKER_VMS_MAX)
		reason = "capacity";
	if (reason != NULL) {
		conn_deny(cn, now, h.h_name, caps, kind, "denied", reason);
		return;
	}

	records_handshake(pj, now, h.h_name, cn->cn_remote, caps, kind,
	    "granted", NULL);
	fd = cn->cn_fd;
	cn->cn_fd = -1;
	session_start(pj, fd, &h, kind, cn->cn_remote, caps, now,
	    cn->cn_buf + len + 1, cn->cn_len - len - 1);
	conn_free(cn);
}

/* Record an outcome other than granted, answer when there is a line. */
static void
conn_deny(struct conn *cn, int64_t now, const char *vm, const char *caps,
    enum session_kind kind, const char *outcome, const char *reason)
{
	char	 reply[64];
	int	 len;

	records_handshake(cn->cn_project, now, vm, cn->cn_remote, caps, kind,
	    outcome, reason);
	if (strcmp(outcome, "denied") == 0 && strcmp(reason, "io-error") != 0) {
		len = snprintf(reply, sizeof(reply), "denied reason=%s\n",
		    reason);
		if (write(cn->cn_fd, reply, len) == -1)
			log_debug("%s: reply to %s: %s", cn->cn_project->pj_id,
			    cn->cn_remote, strerror(errno));
	}
	conn_free(cn);
}

static void
conn_free(struct conn *cn)
{
	event_del(&cn->cn_ev);
	if (cn->cn_fd != -1) {
		broker_close(cn->cn_fd);
		broker_nconns--;
	}
	TAILQ_REMOVE(&conn_pending, cn, cn_entry);
	free(cn);
}

/* Make room: drop the oldest connection still owing its hello. */
int
conn_evict(void)
{
	struct conn	*cn;

	if ((cn = TAILQ_FIRST(&conn_pending)) == NULL)
		return (-1);
	records_log(cn->cn_project, "WARN", "connection limit %d reached, "
	    "dropping %s", broker_conn_max, cn->cn_remote);
	conn_deny(cn, broker_now_ms(), cn->cn_remote, "", KIND_GUEST,
	    "timeout", "evicted");
	return (0);
}

/* The project stops: its pending connections go without a record. */
void
conn_close_project(struct project *pj)
{
	struct conn	*cn, *next;

	TAILQ_FOREACH_SAFE(cn, &conn_pending, cn_entry, next)
		if (cn->cn_project == pj)
			conn_free(cn);
}
