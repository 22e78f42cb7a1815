/*
 * castra-agent: says hello to the Castra broker from inside a guest,
 * keeps a bus session open, and powers the guest off when QEMU presses
 * the ACPI power button.
 *
 * One poll(2) loop, no threads.  At most two connections exist: the
 * live bus session and, while it is being replaced, the next one.
 * Every 15 seconds (-r) a new connection says hello again, so that the
 * broker's newest handshake stays young; once it is granted it becomes
 * the session and the old one is closed.
 */

#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/input.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define FWCFG_DIR	"/sys/firmware/qemu_fw_cfg/by_name/opt/castra"
#define CMDLINE_PATH	"/proc/cmdline"
#define BOOTS_FILE	"/var/lib/castra/boots"	/* kept by init */
#define INPUT_MAX	32		/* /dev/input/event0..31 */
#define BUTTONS_MAX	4

#define HANDSHAKE_MS	5000		/* the broker's own deadline */
#define HEARTBEAT_MS	10000
#define REHELLO_MS	15000		/* reachability lasts 45 s */
#define REHELLO_MAX	40		/* seconds, for -r */
#define SILENCE_MS	35000		/* no ack for three heartbeats */
#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define NOCONFIG_MS	2000

enum conn_state {
	CONN_CLOSED,
	CONN_CONNECTING,
	CONN_GREETING,
	CONN_REPLY,
	CONN_SESSION
};

struct conn {
	int			 c_fd;
	enum conn_state		 c_state;
	int64_t			 c_deadline;
	size_t			 c_len;
	unsigned char		 c_buf[AGENT_FRAME_MAX + 4];
	char			 c_session[AGENT_SESSION_MAX + 1];
};

struct agent {
	struct agent_config	 a_cf;
	struct conn		 a_conns[2];
	struct conn		*a_cur;		/* the bus session */
	struct conn		*a_next;	/* a hello under way */
	int			 a_buttons[BUTTONS_MAX];
	int			 a_nbuttons;
	int64_t			 a_dial;	/* when to say hello next */
	int64_t			 a_backoff;
	int64_t			 a_heartbeat;
	int64_t			 a_rehello;	/* ms between hellos */
	int			 a_failing;	/* failures since a grant */
	int			 a_granted;
	int			 a_debug;
	int			 a_once;
	int			 a_nobutton;
	struct agentboot	 a_boot;	/* bootstrap-v1 */
};

struct agent_handler {
	const char		*ah_type;
	void			(*ah_fn)(struct agent *, const char *,
				    size_t);
};

static void	 agent_log(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 agent_debug(struct agent *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static int	 agent_readfile(const char *, char *, size_t);
static int	 agent_configure(struct agent_config *,
		    const struct agent_config *);
static void	 agent_buttons(struct agent *);
static void	 agent_button_event(int);
static void	 agent_poweroff(void);
static void	 agent_dial(struct agent *);
static void	 agent_fail(struct agent *, struct conn *, const char *);
static void	 agent_close(struct conn *);
static void	 agent_lost(struct agent *, struct conn *, const char *);
static void	 agent_wait_config(struct agent *,
		    const struct agent_config *);
static int	 agent_send(struct agent *, struct conn *, const char *);
static void	 agent_connected(struct agent *, struct conn *);
static void	 agent_read(struct agent *, struct conn *);
static void	 agent_handshake(struct agent *, struct conn *);
static void	 agent_granted(struct agent *, struct conn *);
static void	 agent_frames(struct agent *, struct conn *);
static void	 agent_dispatch(struct agent *, const char *, size_t);
static void	 agent_on_ack(struct agent *, const char *, size_t);
static void	 agent_on_message(struct agent *, const char *, size_t);
static void	 agent_timers(struct agent *, int64_t);
static int	 agent_timeout(struct agent *, int64_t);
static void	 agent_loop(struct agent *);
static void	 usage(void);

/*
 * What the broker may send on the bus.  Host requests arrive as
 * "message" frames on the VM's own topic; a new request kind gets its
 * handler in agent_on_message.
 */
static const struct agent_handler agent_handlers[] = {
	{ "ack",	agent_on_ack },
	{ "message",	agent_on_message },
};

static void
agent_log(const char *fmt, ...)
{
	va_list	 ap;

	fputs("castra-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
agent_debug(struct agent *a, const char *fmt, ...)
{
	va_list	 ap;

	if (!a->a_debug)
		return;
	fputs("castra-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Milliseconds on the monotonic clock. */
int64_t
agent_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Read from fd until len bytes or its end, going on after a signal;
 * how many bytes came.  A read error ends it like the end of the file.
 */
size_t
agent_readn(int fd, void *buf, size_t len)
{
	char	*p = buf;
	ssize_t	 n;
	size_t	 off = 0;

	while (off < len) {
		n = read(fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	return (off);
}

/* Read a small file whole, NUL-terminated and trimmed. */
static int
agent_readfile(const char *path, char *buf, size_t len)
{
	size_t	 off;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	off = agent_readn(fd, buf, len - 1);
	close(fd);
	buf[off] = '\0';
	if (strlen(buf) != off)		/* a NUL inside */
		return (-1);
	agent_trim(buf);
	return (0);
}

/*
 * The kernel command line first, then fw_cfg over it, then the flags
 * over both: fw_cfg is what castra-vmm always sets, the command line
 * serves guests booted some other way.
 */
static int
agent_configure(struct agent_config *ac, const struct agent_config *flags)
{
	char		 buf[4096];
	uint16_t	 port;

	memset(ac, 0, sizeof(*ac));
	snprintf(ac->ac_host, sizeof(ac->ac_host), "%s", AGENT_HOST);
	if (agent_readfile(CMDLINE_PATH, buf, sizeof(buf)) == 0 &&
	    agent_cmdline(buf, strlen(buf), ac) == -1)
		agent_log("%s: ignoring bad castra.* values", CMDLINE_PATH);

	if (agent_readfile(FWCFG_DIR "/name/raw", buf, sizeof(buf)) == 0 &&
	    agent_valid_name(buf))
		snprintf(ac->ac_name, sizeof(ac->ac_name), "%s", buf);
	if (agent_readfile(FWCFG_DIR "/port/raw", buf, sizeof(buf)) == 0 &&
	    agent_parse_port(buf, &port) == 0)
		ac->ac_port = port;
	if (agent_readfile(FWCFG_DIR "/token/raw", buf, sizeof(buf)) == 0 &&
	    agent_valid_token(buf))
		snprintf(ac->ac_token, sizeof(ac->ac_token), "%s", buf);

	if (flags->ac_name[0] != '\0')
		memcpy(ac->ac_name, flags->ac_name, sizeof(ac->ac_name));
	if (flags->ac_token[0] != '\0')
		memcpy(ac->ac_token, flags->ac_token, sizeof(ac->ac_token));
	if (flags->ac_host[0] != '\0')
		memcpy(ac->ac_host, flags->ac_host, sizeof(ac->ac_host));
	if (flags->ac_port != 0)
		ac->ac_port = flags->ac_port;

	return (ac->ac_name[0] != '\0' && ac->ac_port != 0 ? 0 : -1);
}

/*
 * Open every input device that has a power key.  This happens before
 * the first hello: a power button press that comes before anyone
 * reads the device is lost, and the host presses it only after it has
 * seen the guest's hello.
 */
static void
agent_buttons(struct agent *a)
{
	unsigned long	 bits[KEY_MAX / (8 * sizeof(long)) + 1];
	char		 path[32];
	int		 i, fd;
	size_t		 w = 8 * sizeof(long);

	for (i = 0; i < INPUT_MAX && a->a_nbuttons < BUTTONS_MAX; i++) {
		snprintf(path, sizeof(path), "/dev/input/event%d", i);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd == -1)
			continue;
		memset(bits, 0, sizeof(bits));
		if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(bits)), bits) == -1 ||
		    (bits[KEY_POWER / w] & (1UL << (KEY_POWER % w))) == 0) {
			close(fd);
			continue;
		}
		agent_debug(a, "%s: watching the power button", path);
		a->a_buttons[a->a_nbuttons++] = fd;
	}
}

static void
agent_button_event(int fd)
{
	struct input_event	 ev[16];
	ssize_t			 n;
	size_t			 i;

	while ((n = read(fd, ev, sizeof(ev))) > 0) {
		for (i = 0; i < (size_t)n / sizeof(ev[0]); i++) {
			if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER &&
			    ev[i].value == 1)
				agent_poweroff();
		}
	}
}

/*
 * The disk is a throwaway overlay, so there is nothing to stop
 * gracefully: flush what was written and let QEMU exit.
 */
static void
agent_poweroff(void)
{
	agent_log("power button pressed, powering off");
	sync();
	if (reboot(RB_POWER_OFF) == -1)
		agent_log("poweroff: %s", strerror(errno));
}

static void
agent_close(struct conn *c)
{
	if (c->c_fd != -1)
		close(c->c_fd);
	c->c_fd = -1;
	c->c_state = CONN_CLOSED;
	c->c_len = 0;
}

/* The bus session ended: say hello again at once. */
static void
agent_lost(struct agent *a, struct conn *c, const char *why)
{
	agent_log("session %s: %s", c->c_session, why);
	agent_close(c);
	if (a->a_next->c_state == CONN_CLOSED)
		a->a_dial = agent_now();
}

/* A hello that did not make it: try again, later each time. */
static void
agent_fail(struct agent *a, struct conn *c, const char *why)
{
	if (a->a_failing++ == 0)
		agent_log("%s:%u: %s; retrying", a->a_cf.ac_host,
		    a->a_cf.ac_port, why);
	else
		agent_debug(a, "%s:%u: %s", a->a_cf.ac_host,
		    a->a_cf.ac_port, why);
	agent_close(c);
	a->a_dial = agent_now() + a->a_backoff;
	a->a_backoff *= 2;
	if (a->a_backoff > BACKOFF_MAX_MS)
		a->a_backoff = BACKOFF_MAX_MS;
}

static void
agent_dial(struct agent *a)
{
	struct sockaddr_in	 sin;
	struct conn		*c = a->a_next;
	int			 one = 1;

	if (a->a_nbuttons == 0 && !a->a_nobutton)
		agent_buttons(a);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(a->a_cf.ac_port);
	if (inet_pton(AF_INET, a->a_cf.ac_host, &sin.sin_addr) != 1) {
		agent_fail(a, c, "bad broker address");
		return;
	}
	c->c_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->c_fd == -1) {
		agent_fail(a, c, strerror(errno));
		return;
	}
	/* The hello and each frame are single small writes. */
	setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->c_len = 0;
	c->c_deadline = agent_now() + HANDSHAKE_MS;
	c->c_state = CONN_CONNECTING;
	if (connect(c->c_fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		c->c_state = CONN_GREETING;
	else if (errno != EINPROGRESS)
		agent_fail(a, c, strerror(errno));
}

static void
agent_connected(struct agent *a, struct conn *c)
{
	socklen_t	 len = sizeof(int);
	int		 error = 0;

	if (getsockopt(c->c_fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error != 0) {
		agent_fail(a, c, strerror(error));
		return;
	}
	c->c_state = CONN_GREETING;
}

/*
 * Everything the agent sends is small and the socket buffer is empty
 * when it sends, so a short write means the connection is broken.
 */
static int
agent_send(struct agent *a, struct conn *c, const char *json)
{
	static char	 buf[AGENT_FRAME_MAX + 4];
	int		 n;

	if ((n = frame_encode(buf, sizeof(buf), json)) == -1)
		return (-1);
	if (send(c->c_fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
		return (-1);
	agent_debug(a, "sent %s", json);
	return (0);
}

/*
 * Once a boot, say which boot of its disk this is: the count that init
 * keeps in BOOTS_FILE.  On a fresh overlay it is always 1.
 */
static void
agent_announce_boot(struct agent *a, struct conn *c)
{
	char	 count[32], json[256];
	char	*ep;
	long	 boots;

	if (agent_readfile(BOOTS_FILE, count, sizeof(count)) == -1)
		return;
	boots = strtol(count, &ep, 10);
	if (ep == count || boots < 1)
		return;
	snprintf(json, sizeof(json), "{\"payload\":{\"boots\":%ld,"
	    "\"event\":\"boot\",\"vm\":\"%s\"},\"topic\":\"broadcast\","
	    "\"type\":\"publish\"}", boots, a->a_cf.ac_name);
	if (agent_send(a, c, json) == -1)
		agent_debug(a, "announcing the boot failed");
}

static void
agent_granted(struct agent *a, struct conn *c)
{
	struct timespec	 ts;
	char		 json[128];

	snprintf(json, sizeof(json),
	    "{\"topic\":\"vm:%s\",\"type\":\"subscribe\"}", a->a_cf.ac_name);
	if (agent_send(a, c, json) == -1) {
		agent_fail(a, c, "subscribe failed");
		return;
	}
	if (!a->a_granted)
		agent_announce_boot(a, c);
	if (!a->a_granted || a->a_failing) {
		/* The boot time on the console tells how long boots take. */
		clock_gettime(CLOCK_BOOTTIME, &ts);
		agent_log("vm:%s: hello granted, session %s, %lld.%02ld s "
		    "after boot", a->a_cf.ac_name, c->c_session,
		    (long long)ts.tv_sec, ts.tv_nsec / 10000000);
	} else
		agent_debug(a, "session %s", c->c_session);

	if (a->a_cur->c_state != CONN_CLOSED)
		agent_close(a->a_cur);
	a->a_next = a->a_cur;
	a->a_cur = c;
	c->c_state = CONN_SESSION;
	c->c_deadline = agent_now() + SILENCE_MS;
	a->a_granted = 1;
	a->a_failing = 0;
	a->a_backoff = BACKOFF_MIN_MS;
	a->a_heartbeat = agent_now() + HEARTBEAT_MS;
	a->a_dial = agent_now() + a->a_rehello;
	if (a->a_once)
		exit(0);
}

/* The greeting, our hello, the broker's verdict: one line each. */
static void
agent_handshake(struct agent *a, struct conn *c)
{
	char		 line[AGENT_LINE_MAX + 1], hello[AGENT_LINE_MAX + 2];
	size_t		 n;
	int		 r, len;

	while (c->c_state == CONN_GREETING || c->c_state == CONN_REPLY) {
		r = agent_line((char *)c->c_buf, c->c_len, &n);
		if (r == 0)
			return;
		if (r == -1) {
			agent_fail(a, c, "bad line from broker");
			return;
		}
		memcpy(line, c->c_buf, n);
		line[n] = '\0';
		c->c_len -= n + 1;
		memmove(c->c_buf, c->c_buf + n + 1, c->c_len);
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';

		if (c->c_state == CONN_GREETING) {
			if (agent_greeting(line) == -1) {
				agent_fail(a, c, "not a castra broker");
				return;
			}
			if ((len = agent_hello(hello, sizeof(hello),
			    &a->a_cf)) == -1 || send(c->c_fd, hello,
			    (size_t)len, MSG_NOSIGNAL) != len) {
				agent_fail(a, c, "hello failed");
				return;
			}
			c->c_state = CONN_REPLY;
			continue;
		}
		switch (agent_reply(line, c->c_session,
		    sizeof(c->c_session))) {
		case AGENT_REPLY_OK:
			agent_granted(a, c);
			if (c->c_state == CONN_SESSION)
				agent_frames(a, c);
			return;
		case AGENT_REPLY_DENIED:
			snprintf(line, sizeof(line), "denied: %s",
			    c->c_session);
			agent_fail(a, c, line);
			return;
		default:
			agent_fail(a, c, "bad reply from broker");
			return;
		}
	}
}

static void
agent_frames(struct agent *a, struct conn *c)
{
	const unsigned char	*p;
	size_t			 plen;
	ssize_t			 n;

	while ((n = frame_decode(c->c_buf, c->c_len, &p, &plen)) > 0) {
		agent_dispatch(a, (const char *)p, plen);
		c->c_len -= (size_t)n;
		memmove(c->c_buf, c->c_buf + n, c->c_len);
	}
	if (n == -1)
		agent_lost(a, c, "bad frame length");
}

static void
agent_dispatch(struct agent *a, const char *json, size_t len)
{
	char	 type[32];
	size_t	 i;

	if (json_string(json, len, "type", type, sizeof(type)) == -1) {
		agent_debug(a, "frame without a type");
		return;
	}
	for (i = 0; i < sizeof(agent_handlers) / sizeof(agent_handlers[0]);
	    i++) {
		if (strcmp(agent_handlers[i].ah_type, type) == 0) {
			agent_handlers[i].ah_fn(a, json, len);
			return;
		}
	}
	agent_debug(a, "ignoring a \"%s\" frame", type);
}

static void
agent_on_ack(struct agent *a, const char *json, size_t len)
{
	char	 what[32], status[32];

	if (json_string(json, len, "ack", what, sizeof(what)) == -1)
		what[0] = '\0';
	if (json_string(json, len, "status", status, sizeof(status)) == 0 &&
	    strcmp(status, "ok") != 0)
		agent_log("broker refused %s: %s", what, status);
	else
		agent_debug(a, "ack %s", what);
}

static void
agent_on_message(struct agent *a, const char *json, size_t len)
{
	char	 topic[AGENT_NAME_MAX + 16];

	if (json_string(json, len, "topic", topic, sizeof(topic)) == -1)
		topic[0] = '\0';
	agent_debug(a, "message on %s: %.*s", topic, (int)len, json);
	/* The host's requests come on the VM's own topic. */
	if (strncmp(topic, "vm:", 3) == 0 &&
	    strcmp(topic + 3, a->a_cf.ac_name) == 0)
		agentboot_request(&a->a_boot, json, len, a->a_cf.ac_name);
}

/* A bootstrap result goes out on the live session, if there is one. */
static void
agent_publish(void *arg, const char *json)
{
	struct agent	*a = arg;

	if (a->a_cur->c_state != CONN_SESSION ||
	    agent_send(a, a->a_cur, json) == -1)
		agent_log("a bootstrap result was lost: no bus session");
}

static void
agent_read(struct agent *a, struct conn *c)
{
	ssize_t	 n;

	n = read(c->c_fd, c->c_buf + c->c_len, sizeof(c->c_buf) - c->c_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (c->c_state != CONN_SESSION) {
			agent_fail(a, c, n == 0 ? "closed by broker" :
			    strerror(errno));
			return;
		}
		agent_lost(a, c, n == 0 ? "closed by broker" :
		    strerror(errno));
		return;
	}
	c->c_len += (size_t)n;
	if (c->c_state == CONN_SESSION) {
		c->c_deadline = agent_now() + SILENCE_MS;
		agent_frames(a, c);
	} else
		agent_handshake(a, c);
}

static void
agent_timers(struct agent *a, int64_t now)
{
	struct conn	*c;

	c = a->a_next;
	if (c->c_state == CONN_CLOSED && now >= a->a_dial)
		agent_dial(a);
	else if (c->c_state != CONN_CLOSED && now >= c->c_deadline)
		agent_fail(a, c, "handshake timed out");

	c = a->a_cur;
	if (c->c_state != CONN_SESSION)
		return;
	if (now >= c->c_deadline) {
		agent_lost(a, c, "broker silent");
		return;
	}
	if (now >= a->a_heartbeat) {
		a->a_heartbeat = now + HEARTBEAT_MS;
		if (agent_send(a, c, "{\"type\":\"heartbeat\"}") == -1)
			agent_lost(a, c, "heartbeat failed");
	}
}

static int
agent_timeout(struct agent *a, int64_t now)
{
	int64_t	 next;

	if (a->a_next->c_state == CONN_CLOSED)
		next = a->a_dial;
	else
		next = a->a_next->c_deadline;
	if (a->a_cur->c_state == CONN_SESSION) {
		if (a->a_heartbeat < next)
			next = a->a_heartbeat;
		if (a->a_cur->c_deadline < next)
			next = a->a_cur->c_deadline;
	}
	/* A bootstrap step's end and deadline are polled for. */
	if (agentboot_busy(&a->a_boot) && now + 100 < next)
		next = now + 100;
	return (next <= now ? 0 : (int)(next - now));
}

static void
agent_loop(struct agent *a)
{
	struct pollfd	 pfd[BUTTONS_MAX + 3];
	struct conn	*c;
	nfds_t		 n, i, nconn;
	int64_t		 now;

	for (;;) {
		now = agent_now();
		agent_timers(a, now);

		n = 0;
		for (i = 0; i < 2; i++) {
			c = i == 0 ? a->a_cur : a->a_next;
			if (c->c_state == CONN_CLOSED)
				continue;
			pfd[n].fd = c->c_fd;
			pfd[n].events = c->c_state == CONN_CONNECTING ?
			    POLLOUT : POLLIN;
			n++;
		}
		nconn = n;
		for (i = 0; i < (nfds_t)a->a_nbuttons; i++) {
			pfd[n].fd = a->a_buttons[i];
			pfd[n++].events = POLLIN;
		}
		/* Last, so that the button loop below stops before it. */
		if (agentboot_fd(&a->a_boot) != -1) {
			pfd[n].fd = agentboot_fd(&a->a_boot);
			pfd[n].events = POLLIN;
		}
		if (poll(pfd, n + (agentboot_fd(&a->a_boot) != -1),
		    agent_timeout(a, agent_now())) == -1) {
			if (errno == EINTR)
				continue;
			agent_log("poll: %s", strerror(errno));
			exit(1);
		}
		agentboot_poll(&a->a_boot);

		for (i = nconn; i < n; i++) {
			if (pfd[i].revents & POLLIN)
				agent_button_event(pfd[i].fd);
		}
		for (i = 0; i < nconn; i++) {
			if (pfd[i].revents == 0)
				continue;
			c = pfd[i].fd == a->a_cur->c_fd ? a->a_cur : a->a_next;
			if (c->c_fd != pfd[i].fd)
				continue;	/* replaced meanwhile */
			if (c->c_state == CONN_CONNECTING)
				agent_connected(a, c);
			else
				agent_read(a, c);
		}
	}
}

/*
 * A guest booted without Castra's settings still powers off on the
 * button; the settings may yet appear (a late fw_cfg module).
 */
static void
agent_wait_config(struct agent *a, const struct agent_config *flags)
{
	struct pollfd	 pfd[BUTTONS_MAX];
	int		 i, warned = 0;

	while (agent_configure(&a->a_cf, flags) == -1) {
		if (!warned++)
			agent_log("no castra.name and castra.port in fw_cfg "
			    "or on the kernel command line; waiting");
		for (i = 0; i < a->a_nbuttons; i++) {
			pfd[i].fd = a->a_buttons[i];
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)a->a_nbuttons, NOCONFIG_MS) <= 0)
			continue;
		for (i = 0; i < a->a_nbuttons; i++) {
			if (pfd[i].revents & POLLIN)
				agent_button_event(pfd[i].fd);
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: castra-agent [-d1P] [-H address] [-n name] "
	    "[-p port] [-r seconds] [-t token]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	static struct agent	 a;
	struct agent_config	 flags;
	char			*ep;
	long			 n;
	int			 ch, i;

	memset(&flags, 0, sizeof(flags));
	a.a_rehello = REHELLO_MS;
	while ((ch = getopt(argc, argv, "d1H:n:Pp:r:t:")) != -1) {
		switch (ch) {
		case 'd':
			a.a_debug = 1;
			break;
		case '1':
			a.a_once = 1;
			break;
		case 'H':
			if (snprintf(flags.ac_host, sizeof(flags.ac_host), "%s",
			    optarg) >= (int)sizeof(flags.ac_host))
				usage();
			break;
		case 'n':
			if (!agent_valid_name(optarg))
				usage();
			snprintf(flags.ac_name, sizeof(flags.ac_name), "%s",
			    optarg);
			break;
		case 'P':
			a.a_nobutton = 1;
			break;
		case 'p':
			if (agent_parse_port(optarg, &flags.ac_port) == -1)
				usage();
			break;
		case 'r':
			n = strtol(optarg, &ep, 10);
			if (*optarg == '\0' || *ep != '\0' || n < 1 ||
			    n > REHELLO_MAX)
				usage();
			a.a_rehello = n * 1000;
			break;
		case 't':
			if (!agent_valid_token(optarg))
				usage();
			snprintf(flags.ac_token, sizeof(flags.ac_token), "%s",
			    optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < 2; i++) {
		a.a_conns[i].c_fd = -1;
		a.a_conns[i].c_state = CONN_CLOSED;
	}
	a.a_cur = &a.a_conns[0];
	a.a_next = &a.a_conns[1];
	a.a_backoff = BACKOFF_MIN_MS;
	agentboot_init(&a.a_boot, agent_publish, &a);

	/* Listen for the power button even while no broker is known. */
	if (!a.a_nobutton)
		agent_buttons(&a);
	agent_wait_config(&a, &flags);
	a.a_dial = agent_now();
	agent_loop(&a);
	return (0);
}
