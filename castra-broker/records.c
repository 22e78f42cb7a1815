/*
 * What the broker leaves in a project's state root.  Everything goes
 * through the directory descriptor castrad passed: the broker is
 * chrooted to an empty directory and can name no other path.
 *
 *	logs/broker.log			one text line per event
 *	handshakes/handshake-events.jsonl	one JSON object per hello
 *	handshakes/<vm>.json		newest granted guest hello and its
 *					bus state, replaced atomically
 *	handshakes/bus-events.jsonl	sessions ended by the broker
 *	logs/bus/bus.log, logs/bus/<vm>.log	published messages
 *
 * Each appended record is one write(2) on an O_APPEND descriptor, so a
 * reader never sees half of one.  A file that would pass BROKER_LOG_MAX
 * is renamed to <file>.1 (replacing the previous one) and started anew.
 *
 * The project's owner may write in these directories too, and the
 * broker serves every user as the one _castra user: every name is
 * resolved through lib/beneath.c, so that a link the owner puts in
 * place of a record or a log never leads the broker to another user's
 * files.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"
#include "state.h"


void
records_init(struct project *pj)
{
	static const char *const dirs[] = { "handshakes", "logs", "logs/bus" };
	size_t	 i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (beneath_mkdir(pj->pj_dirfd, dirs[i], 0755) == -1 &&
		    errno != EEXIST)
			log_warn("%s: %s", pj->pj_id, dirs[i]);
	pj->pj_brokerlog.lf_path = "logs/broker.log";
	pj->pj_hsevents.lf_path = "handshakes/handshake-events.jsonl";
	pj->pj_busevents.lf_path = "handshakes/bus-events.jsonl";
	pj->pj_buslog.lf_path = "logs/bus/bus.log";
}

static void
records_closefile(struct logfile *lf)
{
	if (lf->lf_fd != -1)
		close(lf->lf_fd);
	lf->lf_fd = -1;
}

/* Before the state root changes: reopen everything through the new one. */
void
records_close(struct project *pj)
{
	records_closefile(&pj->pj_brokerlog);
	records_closefile(&pj->pj_hsevents);
	records_closefile(&pj->pj_busevents);
	records_closefile(&pj->pj_buslog);
}

/*
 * Open for appending and learn the size once; the broker is the only
 * writer, so it keeps count from then on instead of asking each time.
 * A name that holds a symbolic link, a file with another name or
 * anything but a file is not the broker's log: it is replaced by a new
 * file, and what it pointed at is left alone.
 */
static int
records_open(struct project *pj, struct logfile *lf)
{
	struct stat	 st;
	int		 flags = O_WRONLY | O_APPEND;

	lf->lf_fd = beneath_open(pj->pj_dirfd, lf->lf_path, flags | O_CREAT,
	    0644);
	if (lf->lf_fd == -1 && (errno == ELOOP || errno == EMLINK ||
	    errno == ENXIO) && (lf->lf_fd = beneath_create(pj->pj_dirfd,
	    lf->lf_path, flags, 0644)) != -1)
		log_warnx("%s: %s was a link or not a file; replaced it with "
		    "a new log", pj->pj_id, lf->lf_path);
	if (lf->lf_fd == -1) {
		log_warn("%s: %s", pj->pj_id, lf->lf_path);
		return (-1);
	}
	lf->lf_size = fstat(lf->lf_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return (0);
}

/* Keep one older generation: <path>.1. */
static void
records_rotate(struct project *pj, struct logfile *lf)
{
	char	 old[256];

	snprintf(old, sizeof(old), "%s.1", lf->lf_path);
	if (beneath_rename(pj->pj_dirfd, lf->lf_path, old) == -1)
		log_warn("%s: rotate %s", pj->pj_id, lf->lf_path);
	records_closefile(lf);
	records_open(pj, lf);
}

static int
records_append(struct project *pj, struct logfile *lf, const char *buf,
    size_t len)
{
	ssize_t		 n;

	if (pj->pj_dirfd == -1)
		return (-1);
	if (lf->lf_fd == -1 && records_open(pj, lf) == -1)
		return (-1);
	if (lf->lf_size + len > BROKER_LOG_MAX)
		records_rotate(pj, lf);
	if (lf->lf_fd == -1)
		return (-1);
	if ((n = write(lf->lf_fd, buf, len)) == -1 || (size_t)n != len) {
		log_warn("%s: %s", pj->pj_id, lf->lf_path);
		return (-1);
	}
	lf->lf_size += len;
	return (0);
}

/* "[host-broker] HH:MM:SS LEVEL message", local time of t. */
static void
records_vlog(struct project *pj, time_t t, const char *level,
    const char *fmt, va_list ap)
{
	struct tm	 tm;
	char		 msg[1024], line[1152], hms[16] = "00:00:00";
	int		 n;

	if (localtime_r(&t, &tm) != NULL)
		strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_debug("%s: %s", pj->pj_id, msg);
	n = snprintf(line, sizeof(line), "[host-broker] %s %s %s\n", hms,
	    level, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	records_append(pj, &pj->pj_brokerlog, line, n);
}

static void
records_logt(struct project *pj, time_t t, const char *level,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	records_vlog(pj, t, level, fmt, ap);
	va_end(ap);
}

void
records_log(struct project *pj, const char *level, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	records_vlog(pj, broker_now_ms() / 1000, level, fmt, ap);
	va_end(ap);
}

/* One JSON object, compact, in the order its members were set. */
static int
records_append_json(struct project *pj, struct logfile *lf, json_t *o)
{
	char	*s;
	size_t	 len;
	int	 rv;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		log_warnx("%s: %s: cannot encode", pj->pj_id, lf->lf_path);
		return (-1);
	}
	/* The newline takes the place of the terminating NUL. */
	len = strlen(s);
	s[len] = '\n';
	rv = records_append(pj, lf, s, len + 1);
	free(s);
	return (rv);
}

static json_t *
records_caps(const char *caps)
{
	json_t	*a;
	char	 buf[HELLO_CAPS_STR], *p, *item;

	if ((a = json_array()) == NULL)
		return (NULL);
	strlcpy(buf, caps, sizeof(buf));
	p = buf;
	while ((item = strsep(&p, ",")) != NULL)
		if (*item != '\0')
			json_array_append_new(a, json_string(item));
	return (a);
}

/*
 * Every hello, whatever its outcome: one line in handshake-events.jsonl
 * and one in broker.log, with the same timestamp.  caps is comma-joined.
 */
void
records_handshake(struct project *pj, int64_t ms, const char *vm,
    const char *remote, const char *caps, enum session_kind kind,
    const char *outcome, const char *reason)
{
	json_t		*o;
	const char	*kname = kind == KIND_HOST ? "host" : "guest";
	time_t		 t = ms / 1000;

	o = json_object();
	json_object_set_new(o, "timestamp", json_integer(t));
	json_object_set_new(o, "vm", json_string(vm));
	json_object_set_new(o, "capabilities", records_caps(caps));
	json_object_set_new(o, "session_kind", json_string(kname));
	json_object_set_new(o, "session_outcome", json_string(outcome));
	if (reason != NULL)
		json_object_set_new(o, "reason", json_string(reason));
	json_object_set_new(o, "remote_addr", json_string(remote));
	records_append_json(pj, &pj->pj_hsevents, o);
	json_decref(o);

	records_logt(pj, t, "INFO", "handshake ts=%lld vm=%s remote=%s "
	    "capabilities=[%s] session_kind=%s session_outcome=%s%s%s",
	    (long long)t, vm, remote, *caps == '\0' ? "-" : caps, kname,
	    outcome, reason != NULL ? " reason=" : "",
	    reason != NULL ? reason : "");
}

static json_t *
records_vm_json(struct bvm *vm)
{
	struct session	*ss = vm->vm_session;
	json_t		*o, *bus, *topics;
	int		 i;

	topics = json_array();
	for (i = 0; ss != NULL && i < ss->ss_ntopics; i++)
		json_array_append_new(topics, json_string(ss->ss_topics[i]));
	bus = json_object();
	json_object_set_new(bus, "topics", topics);
	json_object_set_new(bus, "last_heartbeat_ms",
	    json_integer(vm->vm_heartbeat_ms));
	json_object_set_new(bus, "connected", json_boolean(ss != NULL));

	o = json_object();
	json_object_set_new(o, "vm", json_string(vm->vm_name));
	json_object_set_new(o, "timestamp",
	    json_integer(vm->vm_hello_ms / 1000));
	json_object_set_new(o, "timestamp_ms", json_integer(vm->vm_hello_ms));
	json_object_set_new(o, "remote_addr", json_string(vm->vm_remote));
	json_object_set_new(o, "capabilities", records_caps(vm->vm_caps));
	json_object_set_new(o, "session", json_string(vm->vm_session_id));
	json_object_set_new(o, "bus", bus);
	return (o);
}

/*
 * Replace handshakes/<vm>.json: a temporary file renamed into place, so
 * that a reader sees the old record or the new one.  There is no fsync:
 * the record says whether a guest is reachable now, and after a crash a
 * stale or missing one is as good as a lost update.
 */
static void
records_vm_write(struct bvm *vm)
{
	struct project	*pj = vm->vm_project;
	char		 tmp[128], path[128], *s = NULL;
	json_t		*o;
	size_t		 len;
	int		 fd = -1;

	snprintf(tmp, sizeof(tmp), "handshakes/.%s.json.tmp", vm->vm_name);
	snprintf(path, sizeof(path), "handshakes/%s.json", vm->vm_name);
	o = records_vm_json(vm);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		goto fail;
	if ((fd = beneath_create(pj->pj_dirfd, tmp, O_WRONLY, 0644)) == -1)
		goto fail;
	len = strlen(s);
	if (write(fd, s, len) != (ssize_t)len)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (beneath_rename(pj->pj_dirfd, tmp, path) == -1)
		goto fail;
	vm->vm_written_ms = broker_now_ms();
	vm->vm_dirty = 0;
	json_decref(o);
	free(s);
	return;

 fail:
	log_warn("%s: %s", pj->pj_id, path);
	if (fd != -1) {
		close(fd);
		beneath_unlink(pj->pj_dirfd, tmp);
	}
	json_decref(o);
	free(s);
}

/*
 * Bus state changes with every heartbeat of every guest; the record is
 * written at most once per BROKER_RECORD_INTERVAL per VM unless now is
 * set (a new hello, a session's end).
 */
void
records_vm(struct bvm *vm, int now)
{
	struct timeval	 tv;
	int64_t		 wait;

	if (!vm->vm_record || vm->vm_project->pj_dirfd == -1)
		return;
	wait = vm->vm_written_ms + BROKER_RECORD_INTERVAL - broker_now_ms();
	if (now || wait <= 0) {
		if (evtimer_pending(&vm->vm_flush_ev, NULL))
			evtimer_del(&vm->vm_flush_ev);
		records_vm_write(vm);
		return;
	}
	vm->vm_dirty = 1;
	if (evtimer_pending(&vm->vm_flush_ev, NULL))
		return;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(&vm->vm_flush_ev, &tv);
}

void
records_flush(int fd, short event, void *arg)
{
	struct bvm	*vm = arg;

	if (vm->vm_dirty)
		records_vm_write(vm);
}

/* A session that the broker ended, and why. */
void
records_bus_event(struct project *pj, const char *vm, const char *session,
    const char *reason, const char *action, const char *detail)
{
	json_t	*o;

	o = json_object();
	json_object_set_new(o, "timestamp",
	    json_integer(broker_now_ms() / 1000));
	json_object_set_new(o, "vm", json_string(vm));
	json_object_set_new(o, "session", json_string(session));
	json_object_set_new(o, "reason", json_string(reason));
	json_object_set_new(o, "action", json_string(action));
	if (detail != NULL)
		json_object_set_new(o, "detail", json_string(detail));
	records_append_json(pj, &pj->pj_busevents, o);
	json_decref(o);
	records_log(pj, "WARN", "bus session %s of %s: %s, %s%s%s", session,
	    vm, reason, action, detail != NULL ? ": " : "",
	    detail != NULL ? detail : "");
}

static void
records_append_path(struct project *pj, const char *path, const char *line,
    size_t len)
{
	struct logfile	 lf;

	lf.lf_path = path;
	lf.lf_fd = -1;
	records_append(pj, &lf, line, len);
	records_closefile(&lf);
}

/*
 * A published message (one line of JSON with its newline): into the
 * shared log, the publisher's, and the target VM's when it has one.
 */
void
records_publish(struct project *pj, const char *from, const char *target,
    const char *line, size_t len)
{
	char	 path[128];

	records_append(pj, &pj->pj_buslog, line, len);
	/* A VM named "bus" shares the name of the shared log: it is there. */
	if (strcmp(from, "bus") != 0) {
		snprintf(path, sizeof(path), "logs/bus/%s.log", from);
		records_append_path(pj, path, line, len);
	}
	if (target != NULL && strcmp(target, from) != 0 &&
	    strcmp(target, "bus") != 0) {
		snprintf(path, sizeof(path), "logs/bus/%s.log", target);
		records_append_path(pj, path, line, len);
	}
}
