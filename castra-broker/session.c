/*
 * Granted sessions: the bus.  Frames come in through a buffer bounded
 * by one frame and one read; what goes out waits in a queue of at most
 * SESSION_OUT_MAX bytes, and a subscriber that lets it fill is dropped
 * rather than slowing the publisher.  A session lives while it sends
 * a heartbeat within its project's heartbeat timeout.
 *
 * A message goes to every other session subscribed to its topic; a
 * guest session also receives, without subscribing, what is published
 * to "vm:<its name>".
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"
#include "proc.h"

#define SESSION_READ_MAX	16384

static void	session_read(int, short, void *);
static void	session_write(int, short, void *);
static void	session_heartbeat_expired(int, short, void *);
static int	session_frames(struct session *);
static int	session_frame(struct session *, struct frame *);
static int	session_send(struct session *, const char *);
static int	session_flush(struct session *);
static void	session_fail(struct session *, const char *);

static void
session_newid(char *buf, size_t len)
{
	unsigned char	 r[SESSION_ID_LEN / 2];
	size_t		 i;

	arc4random_buf(r, sizeof(r));
	for (i = 0; i < sizeof(r) && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

static void
session_heartbeat_arm(struct session *ss)
{
	struct timeval	 tv;

	timerclear(&tv);
	tv.tv_sec = ss->ss_project->pj_heartbeat_timeout;
	evtimer_add(&ss->ss_hbev, &tv);
}

/* The newest granted hello of a guest becomes its record. */
static void
session_record(struct session *ss, const char *caps, int64_t now)
{
	struct bvm		*vm;
	struct broker_vm	 bv;

	if ((vm = broker_vm_get(ss->ss_project, ss->ss_name)) == NULL)
		return;
	ss->ss_vm = vm;
	vm->vm_session = ss;
	vm->vm_record = 1;
	vm->vm_hello_ms = now;
	vm->vm_heartbeat_ms = now;
	strlcpy(vm->vm_remote, ss->ss_remote, sizeof(vm->vm_remote));
	strlcpy(vm->vm_caps, caps, sizeof(vm->vm_caps));
	strlcpy(vm->vm_session_id, ss->ss_id, sizeof(vm->vm_session_id));
	/*
	 * Written now unless this VM's record was written within the last
	 * interval: a guest saying hello again in a burst costs one rename
	 * a second, and the record still names its newest hello.
	 */
	records_vm(vm, 0);

	memset(&bv, 0, sizeof(bv));
	strlcpy(bv.bv_project, ss->ss_project->pj_id, sizeof(bv.bv_project));
	strlcpy(bv.bv_name, ss->ss_name, sizeof(bv.bv_name));
	bv.bv_timestamp = now;
	if (proc_parent_compose(IMSG_BROKER_HANDSHAKE_EVENT, 0, -1, &bv,
	    sizeof(bv)) == -1)
		log_warn("%s: handshake event for %s", ss->ss_project->pj_id,
		    ss->ss_name);
}

/*
 * A granted hello: answer "ok session=<id>", take over the descriptor
 * and whatever the client sent after its line.
 */
int
session_start(struct project *pj, int fd, const struct hello *h,
    enum session_kind kind, const char *remote, const char *caps,
    int64_t now, const char *rest, size_t restlen)
{
	struct session	*ss;
	char		 ok[64];
	int		 sndbuf = SESSION_SNDBUF;

	if ((ss = calloc(1, sizeof(*ss))) == NULL ||
	    (ss->ss_in = evbuffer_new()) == NULL ||
	    (ss->ss_out = evbuffer_new()) == NULL ||
	    evbuffer_add(ss->ss_in, rest, restlen) == -1)
		goto fail;
	ss->ss_project = pj;
	ss->ss_kind = kind;
	ss->ss_fd = fd;
	session_newid(ss->ss_id, sizeof(ss->ss_id));
	strlcpy(ss->ss_name, h->h_name, sizeof(ss->ss_name));
	strlcpy(ss->ss_remote, remote, sizeof(ss->ss_remote));
	/* A small send buffer keeps a stalled reader's backlog in sight. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		log_debug("%s: SO_SNDBUF: %s", pj->pj_id, strerror(errno));
	event_set(&ss->ss_rev, fd, EV_READ | EV_PERSIST, session_read, ss);
	event_set(&ss->ss_wev, fd, EV_WRITE, session_write, ss);
	evtimer_set(&ss->ss_hbev, session_heartbeat_expired, ss);
	TAILQ_INSERT_TAIL(&pj->pj_sessions, ss, ss_entry);

	log_debug("%s: session %s for %s from %s", pj->pj_id, ss->ss_id,
	    ss->ss_name, ss->ss_remote);
	/* Recorded first: a client told "ok" usually finds itself on disk. */
	if (kind == KIND_GUEST)
		session_record(ss, caps, now);
	snprintf(ok, sizeof(ok), "ok session=%s\n", ss->ss_id);
	evbuffer_add(ss->ss_out, ok, strlen(ok));
	event_add(&ss->ss_rev, NULL);
	session_heartbeat_arm(ss);
	if (session_frames(ss) == -1)
		return (-1);
	return (session_flush(ss));

 fail:
	log_warn("%s: session for %s", pj->pj_id, h->h_name);
	if (ss != NULL) {
		if (ss->ss_in != NULL)
			evbuffer_free(ss->ss_in);
		if (ss->ss_out != NULL)
			evbuffer_free(ss->ss_out);
		free(ss);
	}
	close(fd);
	broker_nconns--;
	return (-1);
}

static void
session_read(int fd, short event, void *arg)
{
	struct session	*ss = arg;
	char		 buf[SESSION_READ_MAX];
	ssize_t		 n;

	if ((n = read(fd, buf, sizeof(buf))) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		session_close(ss, "io_error", strerror(errno));
		return;
	}
	if (n == 0) {
		/* The client hung up: an ordinary end, not an error. */
		session_close(ss, NULL, NULL);
		return;
	}
	if (evbuffer_add(ss->ss_in, buf, n) == -1) {
		session_close(ss, "io_error", "out of memory");
		return;
	}
	if (session_frames(ss) == 0)
		session_flush(ss);
}

/*
 * Handle every whole frame in the input.  The input never holds more
 * than one frame and one read, because a frame is taken off as soon as
 * it is whole.  Returns -1 once the session is gone.
 */
static int
session_frames(struct session *ss)
{
	unsigned char	 hdr[FRAME_HDR], *body;
	uint32_t	 len;
	struct frame	 fr;
	const char	*errstr;
	char		 detail[64];
	int		 rv;

	while (evbuffer_get_length(ss->ss_in) >= FRAME_HDR) {
		evbuffer_copyout(ss->ss_in, hdr, sizeof(hdr));
		if (frame_length(hdr, &len) == -1) {
			snprintf(detail, sizeof(detail),
			    "bad frame length %u", len);
			session_fail(ss, detail);
			return (-1);
		}
		if (evbuffer_get_length(ss->ss_in) < FRAME_HDR + len)
			break;
		body = evbuffer_pullup(ss->ss_in, FRAME_HDR + len);
		if (body == NULL) {
			session_close(ss, "io_error", "out of memory");
			return (-1);
		}
		if (frame_decode(body + FRAME_HDR, len, &fr, &errstr) == -1) {
			evbuffer_drain(ss->ss_in, FRAME_HDR + len);
			session_fail(ss, errstr);
			return (-1);
		}
		evbuffer_drain(ss->ss_in, FRAME_HDR + len);
		rv = session_frame(ss, &fr);
		frame_clear(&fr);
		if (rv == -1)
			return (-1);
	}
	return (0);
}

/* A frame that cannot be: say why, record it, and hang up. */
static void
session_fail(struct session *ss, const char *why)
{
	char	*ack;

	if ((ack = frame_ack(NULL, "error", why, NULL, -1)) != NULL) {
		session_send(ss, ack);
		free(ack);
	}
	if (session_flush(ss) == 0)
		session_close(ss, "protocol_error", why);
}

static int
session_ack(struct session *ss, const char *ack, const char *status,
    const char *reason, const char *topic, json_int_t delivered)
{
	char	*s;
	int	 rv;

	if ((s = frame_ack(ack, status, reason, topic, delivered)) == NULL) {
		session_close(ss, "io_error", "out of memory");
		return (-1);
	}
	rv = session_send(ss, s);
	free(s);
	if (rv == -1)
		session_close(ss, "slow_consumer", "ack queue full");
	return (rv);
}

static int
session_subscribed(struct session *ss, const char *topic)
{
	int	 i;

	if (ss->ss_kind == KIND_GUEST && strncmp(topic, "vm:", 3) == 0 &&
	    strcmp(topic + 3, ss->ss_name) == 0)
		return (1);
	for (i = 0; i < ss->ss_ntopics; i++)
		if (strcmp(ss->ss_topics[i], topic) == 0)
			return (1);
	return (0);
}

static int
session_subscribe(struct session *ss, const char *topic)
{
	int	 i;

	for (i = 0; i < ss->ss_ntopics; i++)
		if (strcmp(ss->ss_topics[i], topic) == 0)
			return (session_ack(ss, "subscribe", "ok", NULL, topic,
			    -1));
	if (ss->ss_ntopics == SESSION_TOPICS_MAX) {
		records_bus_event(ss->ss_project, ss->ss_name, ss->ss_id,
		    "subscription_limit", "reject", topic);
		return (session_ack(ss, "subscribe", "error",
		    "subscription limit 16 exceeded", topic, -1));
	}
	/* Kept sorted, for the record. */
	for (i = ss->ss_ntopics; i > 0 &&
	    strcmp(ss->ss_topics[i - 1], topic) > 0; i--)
		memcpy(ss->ss_topics[i], ss->ss_topics[i - 1],
		    sizeof(ss->ss_topics[i]));
	strlcpy(ss->ss_topics[i], topic, sizeof(ss->ss_topics[i]));
	ss->ss_ntopics++;
	if (ss->ss_vm != NULL && ss->ss_vm->vm_session == ss)
		records_vm(ss->ss_vm, 0);
	return (session_ack(ss, "subscribe", "ok", NULL, topic, -1));
}

static json_t *
session_message(struct session *ss, struct frame *fr, int64_t now)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		return (NULL);
	json_object_set(o, "payload", fr->fr_payload);
	json_object_set_new(o, "timestamp", json_integer(now / 1000));
	json_object_set_new(o, "topic", json_string(fr->fr_topic));
	json_object_set_new(o, "vm", json_string(ss->ss_name));
	return (o);
}

/* Hand msg to every other session subscribed; drop whoever lags. */
static json_int_t
session_deliver(struct session *from, const char *topic, const char *msg)
{
	struct session	*ss, *next;
	json_int_t	 n = 0;
	char		 detail[64];

	TAILQ_FOREACH_SAFE(ss, &from->ss_project->pj_sessions, ss_entry,
	    next) {
		if (ss == from || !session_subscribed(ss, topic))
			continue;
		if (session_send(ss, msg) == -1) {
			snprintf(detail, sizeof(detail), "%zu bytes queued",
			    evbuffer_get_length(ss->ss_out));
			session_close(ss, "slow_consumer", detail);
			continue;
		}
		event_add(&ss->ss_wev, NULL);
		n++;
	}
	return (n);
}

static int
session_publish(struct session *ss, struct frame *fr)
{
	json_t		*o;
	char		*line = NULL, *msg = NULL;
	const char	*target = NULL;
	json_int_t	 n;
	size_t		 len;

	if ((o = session_message(ss, fr, broker_now_ms())) == NULL ||
	    (line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto fail;
	json_object_set_new(o, "type", json_string("message"));
	if ((msg = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto fail;
	if (strncmp(fr->fr_topic, "vm:", 3) == 0)
		target = fr->fr_topic + 3;
	len = strlen(line);
	line[len] = '\n';
	records_publish(ss->ss_project, ss->ss_name, target, line, len + 1);
	n = session_deliver(ss, fr->fr_topic, msg);
	json_decref(o);
	free(line);
	free(msg);
	return (session_ack(ss, "publish", "ok", NULL, fr->fr_topic, n));

 fail:
	json_decref(o);
	free(line);
	free(msg);
	session_close(ss, "io_error", "out of memory");
	return (-1);
}

static int
session_frame(struct session *ss, struct frame *fr)
{
	struct bvm	*vm = ss->ss_vm;

	switch (fr->fr_type) {
	case FRAME_PUBLISH:
		return (session_publish(ss, fr));
	case FRAME_SUBSCRIBE:
		return (session_subscribe(ss, fr->fr_topic));
	case FRAME_HEARTBEAT:
		session_heartbeat_arm(ss);
		if (vm != NULL && vm->vm_session == ss) {
			vm->vm_heartbeat_ms = broker_now_ms();
			records_vm(vm, 0);
		}
		return (session_ack(ss, "heartbeat", "ok", NULL, NULL, -1));
	}
	return (0);
}

/* Queue one frame; -1 when the queue would pass its bound. */
static int
session_send(struct session *ss, const char *json)
{
	unsigned char	 hdr[FRAME_HDR];
	size_t		 len = strlen(json);

	if (evbuffer_get_length(ss->ss_out) + FRAME_HDR + len >
	    SESSION_OUT_MAX)
		return (-1);
	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
	if (evbuffer_add(ss->ss_out, hdr, sizeof(hdr)) == -1 ||
	    evbuffer_add(ss->ss_out, json, len) == -1)
		return (-1);
	return (0);
}

/*
 * Write what the socket takes now; the rest when it is writable.
 * Returns -1 once the session is gone.
 */
static int
session_flush(struct session *ss)
{
	if (evbuffer_get_length(ss->ss_out) == 0)
		return (0);
	if (evbuffer_write(ss->ss_out, ss->ss_fd) == -1 &&
	    errno != EAGAIN && errno != EINTR) {
		session_close(ss, "io_error", strerror(errno));
		return (-1);
	}
	if (evbuffer_get_length(ss->ss_out) > 0)
		event_add(&ss->ss_wev, NULL);
	return (0);
}

static void
session_write(int fd, short event, void *arg)
{
	session_flush(arg);
}

static void
session_heartbeat_expired(int fd, short event, void *arg)
{
	struct session	*ss = arg;
	char		 detail[64];

	snprintf(detail, sizeof(detail), "no heartbeat for %d s",
	    ss->ss_project->pj_heartbeat_timeout);
	session_close(ss, "heartbeat_timeout", detail);
}

/*
 * End a session.  reason is NULL for an ordinary end, else the broker
 * hangs up and says why in bus-events.jsonl.
 */
void
session_close(struct session *ss, const char *reason, const char *detail)
{
	struct project	*pj = ss->ss_project;
	struct bvm	*vm = ss->ss_vm;

	/* The hello and any forced end are in broker.log already. */
	if (reason != NULL)
		records_bus_event(pj, ss->ss_name, ss->ss_id, reason,
		    "disconnect", detail);
	log_debug("%s: session %s of %s closed", pj->pj_id, ss->ss_id,
	    ss->ss_name);
	if (vm != NULL && vm->vm_session == ss) {
		vm->vm_session = NULL;
		records_vm(vm, 0);
	}
	event_del(&ss->ss_rev);
	event_del(&ss->ss_wev);
	evtimer_del(&ss->ss_hbev);
	broker_close(ss->ss_fd);
	broker_nconns--;
	evbuffer_free(ss->ss_in);
	evbuffer_free(ss->ss_out);
	TAILQ_REMOVE(&pj->pj_sessions, ss, ss_entry);
	free(ss);
}

void
session_close_project(struct project *pj)
{
	struct session	*ss, *next;

	TAILQ_FOREACH_SAFE(ss, &pj->pj_sessions, ss_entry, next)
		session_close(ss, NULL, NULL);
}
