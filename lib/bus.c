/*
 * castra bus: a host session on a project's broker, and the bus logs.
 *
 * A host session says hello as "host" with the host-bus capability and
 * the project's token, which castra wrote to <state root>/token at up
 * (mode 0600, so only the project's owner can open a host session).
 * The protocol is castra-broker(8)'s: a greeting line, the hello line,
 * "ok session=<id>", then length-prefixed JSON frames both ways.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "castra.h"
#include "proto.h"
#include "state.h"

#define BUS_FRAME_MAX		65536
#define BUS_IO_TIMEOUT		5	/* seconds for one reply */
#define BUS_HEARTBEAT_MS	20000	/* well inside the broker's 60 s */
#define BUS_QUEUE_MAX		1024	/* messages held while awaiting acks */
#define BUS_TAIL_POLL_MS	200
#define BUS_LINE_MAX		(BUS_FRAME_MAX * 2)

struct bus_msg {
	struct bus_msg	*bm_next;
	char		*bm_json;
};

struct castra_bus {
	int		 cb_fd;
	int64_t		 cb_heartbeat_ms;	/* last sent */
	struct bus_msg	*cb_head;
	struct bus_msg	*cb_tail;
	size_t		 cb_nqueued;
};

static int64_t
bus_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
bus_read_exact(int fd, void *buf, size_t len)
{
	char	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = ECONNRESET;
			return (-1);
		}
		p += n;
		len -= n;
	}
	return (0);
}

/* One line of at most len - 1 bytes, without its newline. */
static int
bus_read_line(int fd, char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i++) {
		if (bus_read_exact(fd, buf + i, 1) == -1)
			return (-1);
		if (buf[i] == '\n') {
			buf[i] = '\0';
			return (0);
		}
	}
	errno = EMSGSIZE;
	return (-1);
}

static int
bus_send(struct castra_bus *cb, json_t *o)
{
	unsigned char	 hdr[4];
	char		*s;
	size_t		 len;
	int		 rv;

	if ((s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	if ((len = strlen(s)) > BUS_FRAME_MAX) {
		free(s);
		errno = EMSGSIZE;
		return (-1);
	}
	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
	rv = state_write_all(cb->cb_fd, hdr, sizeof(hdr)) == -1 ||
	    state_write_all(cb->cb_fd, s, len) == -1 ? -1 : 0;
	free(s);
	return (rv);
}

/* The next frame from the broker, NUL-terminated; free it. */
static char *
bus_recv(struct castra_bus *cb)
{
	unsigned char	 hdr[4];
	uint32_t	 len;
	char		*s;

	if (bus_read_exact(cb->cb_fd, hdr, sizeof(hdr)) == -1)
		return (NULL);
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > BUS_FRAME_MAX) {
		errno = EBADMSG;
		return (NULL);
	}
	if ((s = malloc(len + 1)) == NULL)
		return (NULL);
	if (bus_read_exact(cb->cb_fd, s, len) == -1) {
		free(s);
		return (NULL);
	}
	s[len] = '\0';
	return (s);
}

static int
bus_queue(struct castra_bus *cb, char *json)
{
	struct bus_msg	*bm;

	if (cb->cb_nqueued == BUS_QUEUE_MAX ||
	    (bm = calloc(1, sizeof(*bm))) == NULL) {
		free(json);
		return (-1);
	}
	bm->bm_json = json;
	if (cb->cb_tail != NULL)
		cb->cb_tail->bm_next = bm;
	else
		cb->cb_head = bm;
	cb->cb_tail = bm;
	cb->cb_nqueued++;
	return (0);
}

/*
 * Read frames until the acknowledgement of kind; messages that arrive
 * meanwhile are kept for castra_bus_next().  Returns the ack, or NULL.
 */
static json_t *
bus_await_ack(struct castra_bus *cb, const char *kind,
    struct castra_error *ce)
{
	json_t		*o;
	const char	*type, *ack;
	char		*s;

	for (;;) {
		if ((s = bus_recv(cb)) == NULL) {
			castra_seterr(ce, 69, "broker: no acknowledgement: %s",
			    strerror(errno));
			return (NULL);
		}
		if ((o = json_loads(s, 0, NULL)) == NULL) {
			castra_seterr(ce, 69, "broker: unreadable frame");
			free(s);
			return (NULL);
		}
		type = json_string_value(json_object_get(o, "type"));
		ack = json_string_value(json_object_get(o, "ack"));
		if (type != NULL && strcmp(type, "message") == 0) {
			json_decref(o);
			bus_queue(cb, s);
			continue;
		}
		free(s);
		if (type != NULL && strcmp(type, "ack") == 0 &&
		    (ack == NULL || strcmp(ack, kind) == 0))
			return (o);
		json_decref(o);
	}
}

/* Check an ack's status; an error says the broker's reason. */
static int
bus_ack_ok(json_t *o, const char *what, struct castra_error *ce)
{
	const char	*status, *reason;

	status = json_string_value(json_object_get(o, "status"));
	if (status != NULL && strcmp(status, "ok") == 0)
		return (0);
	reason = json_string_value(json_object_get(o, "reason"));
	castra_seterr(ce, 65, "broker refused the %s: %s", what,
	    reason != NULL ? reason : "no reason given");
	return (-1);
}

static int
bus_tcp(uint16_t port, struct castra_error *ce)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { BUS_IO_TIMEOUT, 0 };
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		castra_seterr(ce, 71, "socket: %s", strerror(errno));
		return (-1);
	}
	/* No reply within the timeout is an answer too. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		castra_seterr(ce, 69, "broker at 127.0.0.1:%u: %s; is the "
		    "project up (castra up)?", port, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* A host session on the broker at 127.0.0.1:port with the host token. */
int
castra_bus_connect(uint16_t port, const char *token, struct castra_bus **cbp,
    struct castra_error *ce)
{
	struct castra_bus	*cb;
	char			 line[640];
	int			 n;

	if ((cb = calloc(1, sizeof(*cb))) == NULL) {
		castra_seterr(ce, 70, "out of memory");
		return (-1);
	}
	if ((cb->cb_fd = bus_tcp(port, ce)) == -1) {
		free(cb);
		return (-1);
	}
	if (bus_read_line(cb->cb_fd, line, sizeof(line)) == -1 ||
	    strncmp(line, "castra-broker ", 14) != 0) {
		castra_seterr(ce, 69, "127.0.0.1:%u is not a castra broker",
		    port);
		goto fail;
	}
	n = snprintf(line, sizeof(line), "hello vm:host "
	    "capabilities=bus-v1,host-bus token=%s\n", token);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    state_write_all(cb->cb_fd, line, n) == -1 ||
	    bus_read_line(cb->cb_fd, line, sizeof(line)) == -1) {
		castra_seterr(ce, 69, "broker at 127.0.0.1:%u: hello: %s",
		    port, strerror(errno));
		goto fail;
	}
	if (strncmp(line, "ok session=", 11) != 0) {
		castra_seterr(ce, 77, "broker at 127.0.0.1:%u said \"%.64s\"",
		    port, line);
		goto fail;
	}
	cb->cb_heartbeat_ms = bus_now_ms();
	*cbp = cb;
	return (0);

 fail:
	close(cb->cb_fd);
	free(cb);
	return (-1);
}

static int
bus_token(struct castra *c, char *token, size_t len, struct castra_error *ce)
{
	char	 path[PATH_MAX];
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", castra_state_root(c),
	    STATE_TOKEN);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		castra_seterr(ce, errno == ENOENT ? 69 : 77, "%s: %s%s", path,
		    strerror(errno), errno == ENOENT ?
		    "; is the project up (castra up)?" : "");
		return (-1);
	}
	n = read(fd, token, len - 1);
	close(fd);
	if (n <= 0) {
		castra_seterr(ce, 65, "%s: empty", path);
		return (-1);
	}
	token[n] = '\0';
	token[strcspn(token, "\r\n")] = '\0';
	return (0);
}

/* A host session on the project's broker. */
int
castra_bus_open(struct castra *c, struct castra_bus **cbp,
    struct castra_error *ce)
{
	char		 token[TOKEN_HEX_LEN + 2];
	uint16_t	 port;

	if (bus_token(c, token, sizeof(token), ce) == -1)
		return (-1);
	port = c->c_cfg->cf_broker_port;
	if (port == 0)
		port = CONFIG_BROKER_PORT;
	return (castra_bus_connect(port, token, cbp, ce));
}

void
castra_bus_close(struct castra_bus *cb)
{
	struct bus_msg	*bm;

	if (cb == NULL)
		return;
	while ((bm = cb->cb_head) != NULL) {
		cb->cb_head = bm->bm_next;
		free(bm->bm_json);
		free(bm);
	}
	close(cb->cb_fd);
	free(cb);
}

/*
 * Publish payload (JSON text) to topic (NULL: broadcast).  *delivered,
 * when not NULL, is the number of sessions the broker queued it for.
 */
int
castra_bus_publish(struct castra_bus *cb, const char *topic,
    const char *payload, int *delivered, struct castra_error *ce)
{
	json_error_t	 jerr;
	json_t		*o, *p, *ack;
	int		 rv;

	if ((p = json_loads(payload, JSON_DECODE_ANY, &jerr)) == NULL) {
		castra_seterr(ce, 65, "payload is not JSON: %s (column %d)",
		    jerr.text, jerr.column);
		return (-1);
	}
	o = json_pack("{s:s, s:s, s:o}", "type", "publish", "topic",
	    topic != NULL ? topic : "broadcast", "payload", p);
	if (o == NULL || bus_send(cb, o) == -1) {
		castra_seterr(ce, errno == EMSGSIZE ? 65 : 69,
		    "publish: %s", errno == EMSGSIZE ?
		    "the frame would exceed 65536 bytes" : strerror(errno));
		json_decref(o);
		return (-1);
	}
	json_decref(o);
	if ((ack = bus_await_ack(cb, "publish", ce)) == NULL)
		return (-1);
	rv = bus_ack_ok(ack, "message", ce);
	if (rv == 0 && delivered != NULL)
		*delivered = json_integer_value(json_object_get(ack,
		    "delivered"));
	json_decref(ack);
	return (rv);
}

int
castra_bus_subscribe(struct castra_bus *cb, const char *topic,
    struct castra_error *ce)
{
	json_t	*o, *ack;
	int	 rv;

	o = json_pack("{s:s, s:s}", "type", "subscribe", "topic", topic);
	if (o == NULL || bus_send(cb, o) == -1) {
		castra_seterr(ce, 69, "subscribe: %s", strerror(errno));
		json_decref(o);
		return (-1);
	}
	json_decref(o);
	if ((ack = bus_await_ack(cb, "subscribe", ce)) == NULL)
		return (-1);
	rv = bus_ack_ok(ack, "subscription", ce);
	json_decref(ack);
	return (rv);
}

static int
bus_heartbeat(struct castra_bus *cb, struct castra_error *ce)
{
	json_t	*o;
	int	 rv;

	o = json_pack("{s:s}", "type", "heartbeat");
	rv = o == NULL ? -1 : bus_send(cb, o);
	json_decref(o);
	if (rv == -1)
		castra_seterr(ce, 69, "heartbeat: %s", strerror(errno));
	cb->cb_heartbeat_ms = bus_now_ms();
	return (rv);
}

/*
 * The next message for this session, a JSON object as text in *json
 * (free it).  Heartbeats go out as needed while waiting.  Returns 1, 0
 * when timeout_ms (-1: none) passed first, -1 on error or hang-up.
 */
int
castra_bus_next(struct castra_bus *cb, char **json, int timeout_ms,
    struct castra_error *ce)
{
	struct pollfd	 pfd;
	struct bus_msg	*bm;
	int64_t		 end, now, wait;
	json_t		*o;
	const char	*type;
	char		*s;
	int		 n;

	end = timeout_ms < 0 ? -1 : bus_now_ms() + timeout_ms;
	for (;;) {
		if ((bm = cb->cb_head) != NULL) {
			if ((cb->cb_head = bm->bm_next) == NULL)
				cb->cb_tail = NULL;
			cb->cb_nqueued--;
			*json = bm->bm_json;
			free(bm);
			return (1);
		}
		now = bus_now_ms();
		if (now - cb->cb_heartbeat_ms >= BUS_HEARTBEAT_MS &&
		    bus_heartbeat(cb, ce) == -1)
			return (-1);
		if (end != -1 && now >= end)
			return (0);
		wait = cb->cb_heartbeat_ms + BUS_HEARTBEAT_MS - now;
		if (end != -1 && end - now < wait)
			wait = end - now;
		pfd.fd = cb->cb_fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, (int)wait)) == -1 && errno != EINTR) {
			castra_seterr(ce, 71, "poll: %s", strerror(errno));
			return (-1);
		}
		if (n <= 0)
			continue;
		if ((s = bus_recv(cb)) == NULL) {
			castra_seterr(ce, 69, "the broker closed the "
			    "session%s%s", errno == ECONNRESET ? "" : ": ",
			    errno == ECONNRESET ? "" : strerror(errno));
			return (-1);
		}
		o = json_loads(s, 0, NULL);
		type = json_string_value(json_object_get(o, "type"));
		if (type != NULL && strcmp(type, "message") == 0)
			bus_queue(cb, s);
		else
			free(s);
		json_decref(o);
	}
}

/* logs/bus/bus.log, or logs/bus/<vm>.log. */
static int
bus_log_path(struct castra *c, const char *vm, char *buf, size_t len,
    struct castra_error *ce)
{
	int	 n;

	if (vm != NULL && !proto_name_valid(vm)) {
		castra_seterr(ce, 64, "%s: not a VM name", vm);
		return (-1);
	}
	n = snprintf(buf, len, "%s/%s/%s.log", castra_state_root(c),
	    STATE_LOGS_BUS, vm != NULL ? vm : "bus");
	if (n < 0 || (size_t)n >= len) {
		castra_seterr(ce, 64, "%s: path too long",
		    castra_state_root(c));
		return (-1);
	}
	return (0);
}

struct bus_tail {
	int		 bt_fd;
	ino_t		 bt_ino;
	char		*bt_buf;
	size_t		 bt_len;
	castra_log_fn	*bt_fn;
	void		*bt_arg;
	const char	*bt_label;
};

/* Read what is new and hand over each whole line. */
static int
bus_tail_read(struct bus_tail *bt)
{
	char	*nl, *p;
	ssize_t	 n;
	size_t	 len;

	for (;;) {
		if (bt->bt_len == BUS_LINE_MAX) {
			/* A line longer than any record: pass it cut. */
			if (bt->bt_fn(bt->bt_label, bt->bt_buf, bt->bt_len,
			    bt->bt_arg) == -1)
				return (-1);
			bt->bt_len = 0;
		}
		n = read(bt->bt_fd, bt->bt_buf + bt->bt_len,
		    BUS_LINE_MAX - bt->bt_len);
		if (n <= 0)
			return (n == -1 && errno != EINTR ? -1 : 0);
		bt->bt_len += n;
		p = bt->bt_buf;
		while ((nl = memchr(p, '\n', bt->bt_buf + bt->bt_len - p)) !=
		    NULL) {
			if (bt->bt_fn(bt->bt_label, p, nl - p,
			    bt->bt_arg) == -1)
				return (-1);
			p = nl + 1;
		}
		len = bt->bt_buf + bt->bt_len - p;
		memmove(bt->bt_buf, p, len);
		bt->bt_len = len;
	}
}

/* Rotated (a new file under the name) or truncated: start it over. */
static int
bus_tail_reopen(struct bus_tail *bt, const char *path)
{
	struct stat	 st, cur;
	int		 fd;

	if (stat(path, &st) == -1 || fstat(bt->bt_fd, &cur) == -1)
		return (0);
	if (st.st_ino == bt->bt_ino && st.st_size >= lseek(bt->bt_fd, 0,
	    SEEK_CUR))
		return (0);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	if (st.st_ino == bt->bt_ino) {
		close(fd);
		if (lseek(bt->bt_fd, 0, SEEK_SET) == -1)
			return (-1);
	} else {
		/* Finish the old file first: its end came before. */
		if (bus_tail_read(bt) == -1) {
			close(fd);
			return (-1);
		}
		close(bt->bt_fd);
		bt->bt_fd = fd;
		bt->bt_ino = st.st_ino;
	}
	bt->bt_len = 0;
	return (0);
}

/*
 * The last lines of the project's bus log (vm NULL: all messages; else
 * what vm published and what was published to it), then, with follow,
 * every new line until fn returns -1.
 */
int
castra_bus_tail(struct castra *c, const char *vm, size_t lines, int follow,
    castra_log_fn *fn, void *arg, struct castra_error *ce)
{
	struct bus_tail	 bt;
	struct stat	 st;
	off_t		 start;
	char		 path[PATH_MAX];

	if (bus_log_path(c, vm, path, sizeof(path), ce) == -1)
		return (-1);
	memset(&bt, 0, sizeof(bt));
	bt.bt_fn = fn;
	bt.bt_arg = arg;
	bt.bt_label = vm != NULL ? vm : "bus";
	/* Not written yet: follow waits for it. */
	while ((bt.bt_fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT || !follow) {
			if (errno == ENOENT)
				return (0);
			castra_seterr(ce, 66, "%s: %s", path, strerror(errno));
			return (-1);
		}
		poll(NULL, 0, BUS_TAIL_POLL_MS);
	}
	if ((bt.bt_buf = malloc(BUS_LINE_MAX)) == NULL ||
	    fstat(bt.bt_fd, &st) == -1)
		goto fail;
	bt.bt_ino = st.st_ino;
	if ((start = logs_tail_start(bt.bt_fd, st.st_size, lines)) == -1 ||
	    lseek(bt.bt_fd, start, SEEK_SET) == -1)
		goto fail;
	/* Until fn asks to stop, or the file cannot be read on. */
	while (bus_tail_read(&bt) == 0 && follow) {
		poll(NULL, 0, BUS_TAIL_POLL_MS);
		if (bus_tail_reopen(&bt, path) == -1)
			break;
	}
	close(bt.bt_fd);
	free(bt.bt_buf);
	return (0);

 fail:
	castra_seterr(ce, 74, "%s: %s", path, strerror(errno));
	close(bt.bt_fd);
	free(bt.bt_buf);
	return (-1);
}
