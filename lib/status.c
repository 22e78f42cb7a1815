/*
 * castra status: what a project's VMs are doing, told from the project
 * file and the records in its state root alone.  No network, no
 * castrad, no writes; the event logs are never opened, so the cost
 * does not grow with them.
 *
 * Decisions a reader may look for:
 * - A VM counts as up (starting, running, stopping) only while its
 *   recorded pid is alive, not a zombie, and has the recorded start
 *   time; otherwise it is stopped, whatever the record says.
 * - A handshake is fresh while at most STATE_FRESH_MS old, inclusive.
 *   Its timestamp is written by the broker with the host's clock, so
 *   one in the future means a stepped clock or a forged file: it is
 *   not trusted (no age, not fresh) and a warning says so.
 * - A record that cannot be parsed makes its VM "error" with a warning;
 *   status still reports everything else.  Only a state root that
 *   exists but cannot be read fails the call.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "castra.h"
#include "config.h"
#include "state.h"

#define STATUS_TOPICS_MAX	64
#define STATUS_WARNINGS_MAX	64

/* The castra_status and what it owns. */
struct status {
	struct castra_status	 s_pub;
	struct castra_vm_status	*s_vms;
	char			*s_warnings[STATUS_WARNINGS_MAX + 1];
	size_t			 s_nwarnings;
	int64_t			 s_now;
	int			 s_rootfd;
};

static const char *const vm_states[] = {
	"starting", "running", "stopping", "stopped", "error"
};

static void	status_warn(struct status *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));

static void
status_warn(struct status *s, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (s->s_nwarnings == STATUS_WARNINGS_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) != -1)
		s->s_warnings[s->s_nwarnings++] = msg;
	va_end(ap);
}

/* An integer member in [lo, hi], or -1 (or 0 when absent and optional). */
static int
status_int(json_t *obj, const char *key, int64_t lo, int64_t hi,
    int64_t *vp)
{
	json_t	*v;

	if ((v = json_object_get(obj, key)) == NULL || json_is_null(v))
		return (0);
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return (-1);
	*vp = json_integer_value(v);
	return (1);
}

static const char *
status_str(json_t *obj, const char *key)
{
	json_t	*v;

	if ((v = json_object_get(obj, key)) == NULL || !json_is_string(v))
		return (NULL);
	return (json_string_value(v));
}

/* Read a record, or say why not; 0: none, 1: read, -1: unusable. */
static int
status_read(struct status *s, const char *rel, json_t **objp)
{
	char	 err[256];

	if (s->s_rootfd == -1)
		return (0);
	if (state_read_json_err(s->s_rootfd, rel, objp, err,
	    sizeof(err)) == 0)
		return (1);
	if (errno == ENOENT)
		return (0);
	status_warn(s, "%s/%s: %s; remove it once its VM is stopped "
	    "(castra clean)", s->s_pub.st_state_root, rel,
	    errno == EBADMSG ? err : strerror(errno));
	return (-1);
}

static void
status_broker(struct status *s, const struct config *cfg)
{
	struct castra_status	*st = &s->s_pub;
	json_t			*obj = NULL;
	int64_t			 pid = 0, start = 0, port = 0;
	const char		*state;

	st->st_broker_state = "stopped";
	st->st_broker_port = cfg->cf_broker_port;
	if (status_read(s, STATE_BROKER, &obj) != 1)
		return;
	/* castrad leaves this behind after down: no process to check. */
	state = status_str(obj, "state");
	if (state != NULL && strcmp(state, "stopped") == 0 &&
	    status_int(obj, "port", 1, 65535, &port) != -1)
		goto done;
	if (status_int(obj, "pid", 1, INT32_MAX, &pid) != 1 ||
	    status_int(obj, "start_time", 1, INT64_MAX, &start) != 1 ||
	    status_int(obj, "port", 1, 65535, &port) == -1) {
		status_warn(s, "%s/%s: pid, start_time or port missing or "
		    "out of range; the broker is taken as stopped",
		    st->st_state_root, STATE_BROKER);
		goto done;
	}
	if (state != NULL && strcmp(state, "listening") == 0 &&
	    state_pid_matches(pid, start)) {
		st->st_broker_state = "listening";
		st->st_broker_pid = pid;
		if (port != 0)
			st->st_broker_port = port;
	}
 done:
	json_decref(obj);
}

/* Seconds the system has been up, for a process start time. */
static int64_t
status_boot_ms(void)
{
	char	 buf[64];
	double	 up;
	ssize_t	 n;
	int	 fd;

	if ((fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	if (sscanf(buf, "%lf", &up) != 1)
		return (-1);
	return ((int64_t)(up * 1000));
}

static int64_t
status_uptime(struct status *s, pid_t pid, int64_t launched)
{
	uint64_t	 start;
	int64_t		 up;
	long		 hz;

	if (launched > 0 && launched <= s->s_now)
		return (s->s_now - launched);
	/* No launch time recorded: the process's own age. */
	if ((start = proc_starttime(pid)) == 0 ||
	    (hz = sysconf(_SC_CLK_TCK)) <= 0 || (up = status_boot_ms()) < 0)
		return (-1);
	up -= (int64_t)(start * 1000 / hz);
	return (up < 0 ? 0 : up);
}

static int
status_forwards_config(struct castra_vm_status *vs,
    const struct instance *in)
{
	struct castra_forward	*fw;
	const struct vm		*vm = in->in_vm;
	int			 i;

	if (vm->vm_nforwards == 0)
		return (0);
	if ((fw = calloc(vm->vm_nforwards, sizeof(*fw))) == NULL)
		return (-1);
	vs->vs_forwards = fw;
	for (i = 0; i < vm->vm_nforwards; i++) {
		fw[i].fw_proto = vm->vm_forwards[i].fw_proto == FORWARD_UDP ?
		    "udp" : "tcp";
		if ((fw[i].fw_bind = strdup(vm->vm_forwards[i].fw_bind[0] ?
		    vm->vm_forwards[i].fw_bind : "127.0.0.1")) == NULL)
			return (-1);
		/* Instance i of a declaration moves its host ports up by i. */
		fw[i].fw_host = vm->vm_forwards[i].fw_host + in->in_index;
		fw[i].fw_guest = vm->vm_forwards[i].fw_guest;
		vs->vs_nforwards++;
	}
	return (0);
}

/* The forwards a running VM was given, which the record keeps. */
static int
status_forwards_record(struct castra_vm_status *vs, json_t *arr)
{
	struct castra_forward	*fw;
	json_t			*f;
	const char		*proto, *bind;
	int64_t			 host, guest;
	size_t			 i, n;

	n = json_array_size(arr);
	if (n == 0 || n > CONFIG_FORWARDS_MAX)
		return (1);
	for (i = 0; i < n; i++) {
		f = json_array_get(arr, i);
		proto = status_str(f, "proto");
		bind = status_str(f, "bind");
		if (proto == NULL || (strcmp(proto, "tcp") != 0 &&
		    strcmp(proto, "udp") != 0) || bind == NULL ||
		    strlen(bind) > 45 ||
		    status_int(f, "host", 1, 65535, &host) != 1 ||
		    status_int(f, "guest", 1, 65535, &guest) != 1)
			return (1);
	}
	if ((fw = calloc(n, sizeof(*fw))) == NULL)
		return (-1);
	vs->vs_forwards = fw;
	for (i = 0; i < n; i++) {
		f = json_array_get(arr, i);
		status_int(f, "host", 1, 65535, &host);
		status_int(f, "guest", 1, 65535, &guest);
		fw[i].fw_proto = strcmp(status_str(f, "proto"), "udp") == 0 ?
		    "udp" : "tcp";
		if ((fw[i].fw_bind = strdup(status_str(f, "bind"))) == NULL)
			return (-1);
		fw[i].fw_host = host;
		fw[i].fw_guest = guest;
		vs->vs_nforwards++;
	}
	return (0);
}

static const char *
status_state_name(const char *state)
{
	size_t	 i;

	for (i = 0; i < sizeof(vm_states) / sizeof(vm_states[0]); i++)
		if (state != NULL && strcmp(state, vm_states[i]) == 0)
			return (vm_states[i]);
	return (NULL);
}

static int
status_is_up(const char *state)
{
	return (strcmp(state, "starting") == 0 ||
	    strcmp(state, "running") == 0 || strcmp(state, "stopping") == 0);
}

/* The VM record: state, pid, size, accelerator, times, forwards. */
static int
status_vm_record(struct status *s, struct castra_vm_status *vs,
    const struct instance *in, int *usedfwp)
{
	json_t		*obj = NULL;
	char		 rel[PATH_MAX];
	const char	*state, *accel;
	int64_t		 pid = 0, start = 0, cpus = 0, mem = 0;
	int64_t		 up = 0, launched = 0, first = 0;
	int		 r, rc = 0;

	snprintf(rel, sizeof(rel), "%s/%s.json", STATE_VMS, in->in_name);
	if ((r = status_read(s, rel, &obj)) <= 0) {
		if (r == -1)
			vs->vs_state = "error";
		return (0);
	}
	/*
	 * castrad writes 0 for the process and the times of a VM that
	 * never started (an error before launch): 0 means none.
	 */
	state = status_state_name(status_str(obj, "state"));
	if (state == NULL ||
	    status_int(obj, "pid", 0, INT32_MAX, &pid) == -1 ||
	    status_int(obj, "start_time", 0, INT64_MAX, &start) == -1 ||
	    status_int(obj, "cpus", 1, 1024, &cpus) == -1 ||
	    status_int(obj, "memory_mib", 1, UINT32_MAX, &mem) == -1 ||
	    status_int(obj, "up_at_ms", 0, INT64_MAX, &up) == -1 ||
	    status_int(obj, "launched_at_ms", 0, INT64_MAX, &launched) == -1 ||
	    status_int(obj, "first_handshake_at_ms", 0, INT64_MAX,
	    &first) == -1) {
		status_warn(s, "%s/%s: a field is missing, of the wrong type "
		    "or out of range; remove it once the VM is stopped "
		    "(castra clean)", s->s_pub.st_state_root, rel);
		vs->vs_state = "error";
		goto done;
	}
	if ((accel = status_str(obj, "accel")) != NULL &&
	    (strcmp(accel, "tcg") == 0 || strcmp(accel, "kvm") == 0))
		vs->vs_accel = strcmp(accel, "kvm") == 0 ? "kvm" : "tcg";

	if (status_is_up(state)) {
		if (state_pid_matches(pid, start)) {
			vs->vs_state = state;
			vs->vs_pid = pid;
			vs->vs_uptime_ms = status_uptime(s, pid, launched);
			if (cpus > 0)
				vs->vs_cpus = cpus;
			if (mem > 0)
				vs->vs_memory_mib = mem;
			r = status_forwards_record(vs,
			    json_object_get(obj, "forwards"));
			if (r == -1)
				rc = -1;
			else if (r == 0)
				*usedfwp = 1;
		} else
			vs->vs_state = "stopped";
	} else
		vs->vs_state = state;

	if (up > 0 && launched >= up)
		vs->vs_launched_ms = launched - up;
	if (launched > 0 && first >= launched)
		vs->vs_first_handshake_ms = first - launched;
 done:
	json_decref(obj);
	return (rc);
}

static int
status_topics(struct castra_vm_status *vs, json_t *arr)
{
	const char	**topics;
	size_t		  i, n, k = 0;
	json_t		 *t;

	n = json_array_size(arr);
	if (n > STATUS_TOPICS_MAX)
		n = STATUS_TOPICS_MAX;
	if ((topics = calloc(n + 1, sizeof(*topics))) == NULL)
		return (-1);
	vs->vs_topics = topics;
	for (i = 0; i < n; i++) {
		t = json_array_get(arr, i);
		if (!json_is_string(t) || json_string_length(t) == 0 ||
		    json_string_length(t) > 255)
			continue;
		if ((topics[k] = strdup(json_string_value(t))) == NULL)
			return (-1);
		k++;
	}
	return (0);
}

/*
 * The newest granted handshake and the bus state; returns its time in
 * ms, 0 when there is none to trust, -1 on a memory failure.
 */
static int64_t
status_handshake(struct status *s, struct castra_vm_status *vs,
    const char *name)
{
	json_t		*obj = NULL, *bus;
	char		 rel[PATH_MAX];
	const char	*vm;
	int64_t		 ts = 0, secs = 0, hb = 0;

	snprintf(rel, sizeof(rel), "%s/%s.json", STATE_HANDSHAKES, name);
	if (status_read(s, rel, &obj) != 1)
		return (0);
	if (status_int(obj, "timestamp_ms", 1, INT64_MAX, &ts) == -1 ||
	    status_int(obj, "timestamp", 1, INT64_MAX / 1000, &secs) == -1 ||
	    (ts == 0 && secs == 0)) {
		status_warn(s, "%s/%s: no valid timestamp; ignored",
		    s->s_pub.st_state_root, rel);
		ts = 0;
		goto done;
	}
	if (ts == 0)
		ts = secs * 1000;
	if ((vm = status_str(obj, "vm")) != NULL && strcmp(vm, name) != 0) {
		status_warn(s, "%s/%s: records VM \"%s\"; ignored",
		    s->s_pub.st_state_root, rel, vm);
		ts = 0;
		goto done;
	}
	if (state_age_ms(ts, s->s_now) == -1) {
		status_warn(s, "%s/%s: timestamp is %lld ms in the future; "
		    "ignored until the guest says hello again (did the "
		    "host clock step back?)", s->s_pub.st_state_root, rel,
		    (long long)(ts - s->s_now));
		ts = 0;
		goto done;
	}
	vs->vs_handshake_age_ms = state_age_ms(ts, s->s_now);
	if ((bus = json_object_get(obj, "bus")) != NULL &&
	    json_is_object(bus)) {
		if (status_topics(vs, json_object_get(bus, "topics")) == -1) {
			json_decref(obj);
			return (-1);
		}
		if (status_int(bus, "last_heartbeat_ms", 1, INT64_MAX,
		    &hb) == 1 && hb <= s->s_now)
			vs->vs_heartbeat_age_ms = s->s_now - hb;
	}
 done:
	json_decref(obj);
	return (ts);
}

static int
status_vm(struct status *s, struct castra_vm_status *vs,
    const struct instance *in, int64_t *newest)
{
	int64_t	 ts;
	int	 usedfw = 0;

	vs->vs_state = "stopped";
	vs->vs_cpus = in->in_vm->vm_cpus;
	vs->vs_memory_mib = in->in_vm->vm_memory_mib;
	vs->vs_uptime_ms = -1;
	vs->vs_handshake_age_ms = -1;
	vs->vs_heartbeat_age_ms = -1;
	vs->vs_launched_ms = -1;
	vs->vs_first_handshake_ms = -1;
	if ((vs->vs_name = strdup(in->in_name)) == NULL)
		return (-1);
	if (status_vm_record(s, vs, in, &usedfw) == -1)
		return (-1);
	if (!usedfw && status_forwards_config(vs, in) == -1)
		return (-1);
	if ((ts = status_handshake(s, vs, in->in_name)) == -1)
		return (-1);

	if (state_fresh(vs->vs_handshake_age_ms))
		vs->vs_broker = "reachable";
	else if (status_is_up(vs->vs_state))
		vs->vs_broker = "waiting";
	else
		vs->vs_broker = "offline";
	/* A bus session does not outlive an offline VM. */
	if (strcmp(vs->vs_broker, "offline") == 0)
		vs->vs_heartbeat_age_ms = -1;

	if (ts > *newest) {
		*newest = ts;
		s->s_pub.st_last_handshake_vm = vs->vs_name;
		s->s_pub.st_last_handshake_age_ms = vs->vs_handshake_age_ms;
	}
	return (0);
}

int
castra_status(struct castra *c, struct castra_status **stp,
    struct castra_error *ce)
{
	struct status		*s;
	struct castra_status	*st;
	struct instance		*ins = NULL;
	size_t			 i, n = 0;
	int64_t			 newest = 0;

	*stp = NULL;
	if (ce != NULL)
		memset(ce, 0, sizeof(*ce));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto nomem;
	st = &s->s_pub;
	s->s_rootfd = -1;
	s->s_now = state_now_ms();
	st->st_last_handshake_age_ms = -1;
	if ((st->st_project = strdup(c->c_cfg->cf_project != NULL ?
	    c->c_cfg->cf_project : c->c_id)) == NULL ||
	    (st->st_config = strdup(c->c_config)) == NULL ||
	    (st->st_state_root = strdup(c->c_root)) == NULL)
		goto nomem;

	/* No state root yet: the project was never brought up. */
	if ((s->s_rootfd = open(c->c_root, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 && errno != ENOENT) {
		castra_seterr(ce, 74, "%s: %s; check that you own it, or "
		    "run castra as its owner", c->c_root, strerror(errno));
		castra_status_free(st);
		return (-1);
	}
	status_broker(s, c->c_cfg);

	if (config_instances(c->c_cfg, &ins, &n) == -1)
		goto nomem;
	if (n > 0 && (s->s_vms = calloc(n, sizeof(*s->s_vms))) == NULL)
		goto nomem;
	st->st_vms = s->s_vms;
	for (i = 0; i < n; i++) {
		st->st_nvms++;
		if (status_vm(s, &s->s_vms[i], &ins[i], &newest) == -1)
			goto nomem;
		if (strcmp(s->s_vms[i].vs_broker, "reachable") == 0)
			st->st_reachable = 1;
	}
	free(ins);
	st->st_warnings = (const char *const *)s->s_warnings;
	if (s->s_rootfd != -1)
		close(s->s_rootfd);
	s->s_rootfd = -1;
	*stp = st;
	return (0);

 nomem:
	castra_seterr(ce, 70, "out of memory reading the status");
	free(ins);
	if (s != NULL)
		castra_status_free(&s->s_pub);
	return (-1);
}

void
castra_status_free(struct castra_status *st)
{
	struct status		*s = (struct status *)st;
	struct castra_vm_status	*vs;
	size_t			 i, j;

	if (st == NULL)
		return;
	if (s->s_rootfd != -1)
		close(s->s_rootfd);
	for (i = 0; s->s_vms != NULL && i < st->st_nvms; i++) {
		vs = &s->s_vms[i];
		free((void *)vs->vs_name);
		for (j = 0; vs->vs_topics != NULL && vs->vs_topics[j]; j++)
			free((void *)vs->vs_topics[j]);
		free((void *)vs->vs_topics);
		for (j = 0; j < vs->vs_nforwards; j++)
			free((void *)vs->vs_forwards[j].fw_bind);
		free((void *)vs->vs_forwards);
	}
	free(s->s_vms);
	for (i = 0; i < s->s_nwarnings; i++)
		free(s->s_warnings[i]);
	free((void *)st->st_project);
	free((void *)st->st_config);
	free((void *)st->st_state_root);
	free(s);
}

static json_t *
status_json_vm(const struct castra_vm_status *vs)
{
	json_t	*o, *bus, *topics, *fws, *fw, *boot;
	size_t	 i;

	o = json_object();
	json_object_set_new(o, "name", json_string(vs->vs_name));
	json_object_set_new(o, "state", json_string(vs->vs_state));
	if (vs->vs_pid > 0)
		json_object_set_new(o, "pid", json_integer(vs->vs_pid));
	json_object_set_new(o, "cpus", json_integer(vs->vs_cpus));
	json_object_set_new(o, "memory_mib", json_integer(vs->vs_memory_mib));
	if (vs->vs_uptime_ms >= 0)
		json_object_set_new(o, "uptime_ms",
		    json_integer(vs->vs_uptime_ms));
	json_object_set_new(o, "broker", json_string(vs->vs_broker));
	if (vs->vs_handshake_age_ms >= 0)
		json_object_set_new(o, "handshake_age_ms",
		    json_integer(vs->vs_handshake_age_ms));
	if (vs->vs_accel != NULL)
		json_object_set_new(o, "accel", json_string(vs->vs_accel));
	if (vs->vs_topics != NULL && strcmp(vs->vs_broker, "offline") != 0) {
		bus = json_object();
		topics = json_array();
		for (i = 0; vs->vs_topics[i] != NULL; i++)
			json_array_append_new(topics,
			    json_string(vs->vs_topics[i]));
		json_object_set_new(bus, "topics", topics);
		if (vs->vs_heartbeat_age_ms >= 0)
			json_object_set_new(bus, "heartbeat_age_ms",
			    json_integer(vs->vs_heartbeat_age_ms));
		json_object_set_new(o, "bus", bus);
	}
	fws = json_array();
	for (i = 0; i < vs->vs_nforwards; i++) {
		fw = json_object();
		json_object_set_new(fw, "proto",
		    json_string(vs->vs_forwards[i].fw_proto));
		json_object_set_new(fw, "bind",
		    json_string(vs->vs_forwards[i].fw_bind));
		json_object_set_new(fw, "host",
		    json_integer(vs->vs_forwards[i].fw_host));
		json_object_set_new(fw, "guest",
		    json_integer(vs->vs_forwards[i].fw_guest));
		json_array_append_new(fws, fw);
	}
	json_object_set_new(o, "forwards", fws);
	if (vs->vs_launched_ms >= 0 || vs->vs_first_handshake_ms >= 0) {
		boot = json_object();
		if (vs->vs_launched_ms >= 0)
			json_object_set_new(boot, "launched_ms",
			    json_integer(vs->vs_launched_ms));
		if (vs->vs_first_handshake_ms >= 0)
			json_object_set_new(boot, "first_handshake_ms",
			    json_integer(vs->vs_first_handshake_ms));
		json_object_set_new(o, "boot", boot);
	}
	return (o);
}

/* One line of compact JSON, fields in the order castra(1) documents. */
char *
castra_status_json(const struct castra_status *st)
{
	json_t	*o, *broker, *vms;
	char	*text;
	size_t	 i;

	o = json_object();
	json_object_set_new(o, "project", json_string(st->st_project));
	json_object_set_new(o, "config", json_string(st->st_config));
	json_object_set_new(o, "state_root", json_string(st->st_state_root));
	broker = json_object();
	json_object_set_new(broker, "state",
	    json_string(st->st_broker_state));
	if (st->st_broker_pid > 0)
		json_object_set_new(broker, "pid",
		    json_integer(st->st_broker_pid));
	json_object_set_new(broker, "port", json_integer(st->st_broker_port));
	json_object_set_new(o, "broker", broker);
	json_object_set_new(o, "reachable", json_boolean(st->st_reachable));
	if (st->st_last_handshake_vm != NULL) {
		json_object_set_new(o, "last_handshake_vm",
		    json_string(st->st_last_handshake_vm));
		json_object_set_new(o, "last_handshake_age_ms",
		    json_integer(st->st_last_handshake_age_ms));
	}
	vms = json_array();
	for (i = 0; i < st->st_nvms; i++)
		json_array_append_new(vms, status_json_vm(&st->st_vms[i]));
	json_object_set_new(o, "vms", vms);
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return (text);
}
