/*
 * The host checks `castra up` makes before it asks castrad for anything:
 * enough memory actually available, enough disk under the state root,
 * and every forwarded host port free.  With --force a failed check is
 * only a warning.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/statvfs.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"
#include "config.h"
#include "preflight.h"
#include "state.h"

#define PREFLIGHT_QEMU_MIB	96	/* QEMU's own memory beside the guest */
#define PREFLIGHT_DISK_MIB	256	/* room for overlays and logs */

/* MemAvailable of /proc/meminfo in MiB, or -1. */
static int64_t
mem_available_mib(void)
{
	FILE		*fp;
	char		 line[256];
	long long	 kib = -1;

	if ((fp = fopen("/proc/meminfo", "re")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "MemAvailable: %lld kB", &kib) == 1)
			break;
	fclose(fp);
	return (kib < 0 ? -1 : kib / 1024);
}

/* Is proto port free on addr?  Only EADDRINUSE says it is not. */
static int
port_in_use(int proto, const char *addr, uint16_t port)
{
	struct sockaddr_in	 sin;
	int			 fd, on = 1, busy;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return (0);
	if ((fd = socket(AF_INET, (proto == FORWARD_UDP ? SOCK_DGRAM :
	    SOCK_STREAM) | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	busy = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno == EADDRINUSE;
	close(fd);
	return (busy);
}

/* A failed check: an error, or with --force a warning. */
static int
preflight_fail(int force, castra_event_fn *fn, void *arg,
    struct castra_error *ce, const char *msg)
{
	struct castra_event	 ev;
	char			 text[1024];

	if (!force) {
		castra_seterr(ce, 70, "%s; free it, or use --force to go "
		    "ahead anyway", msg);
		return (-1);
	}
	if (fn != NULL) {
		snprintf(text, sizeof(text), "%s; going ahead (--force)", msg);
		memset(&ev, 0, sizeof(ev));
		ev.ev_type = CASTRA_EV_WARNING;
		ev.ev_vm = "";
		ev.ev_text = text;
		fn(&ev, arg);
	}
	return (0);
}

static int
preflight_memory(const struct instance *insts, size_t ninsts, int force,
    castra_event_fn *fn, void *arg, struct castra_error *ce)
{
	char	 msg[256];
	int64_t	 need = 0, avail;
	size_t	 i;

	for (i = 0; i < ninsts; i++)
		need += insts[i].in_vm->vm_memory_mib + PREFLIGHT_QEMU_MIB;
	if ((avail = mem_available_mib()) == -1 || avail >= need)
		return (0);
	snprintf(msg, sizeof(msg), "the VMs need about %lld MiB of memory "
	    "but %lld MiB is available", (long long)need, (long long)avail);
	return (preflight_fail(force, fn, arg, ce, msg));
}

static int
preflight_disk(const char *root, int force, castra_event_fn *fn,
    void *arg, struct castra_error *ce)
{
	struct statvfs	 sv;
	char		 msg[PATH_MAX + 128];
	uint64_t	 mib;

	if (statvfs(root, &sv) == -1)
		return (0);
	mib = (uint64_t)sv.f_bavail * sv.f_frsize / (1024 * 1024);
	if (mib >= PREFLIGHT_DISK_MIB)
		return (0);
	snprintf(msg, sizeof(msg), "%s has %llu MiB free, less than %d MiB",
	    root, (unsigned long long)mib, PREFLIGHT_DISK_MIB);
	return (preflight_fail(force, fn, arg, ce, msg));
}

static int
preflight_ports(const struct instance *insts, size_t ninsts, int force,
    castra_event_fn *fn, void *arg, struct castra_error *ce)
{
	const struct forward	*fw;
	char			 msg[256];
	size_t			 i;
	int			 f;

	for (i = 0; i < ninsts; i++)
		for (f = 0; f < insts[i].in_nforwards; f++) {
			fw = &insts[i].in_forwards[f];
			if (!port_in_use(fw->fw_proto, fw->fw_bind,
			    fw->fw_host))
				continue;
			snprintf(msg, sizeof(msg), "%s: host port %s %s:%u is "
			    "in use", insts[i].in_name,
			    fw->fw_proto == FORWARD_UDP ? "udp" : "tcp",
			    fw->fw_bind, fw->fw_host);
			if (preflight_fail(force, fn, arg, ce, msg) == -1)
				return (-1);
		}
	return (0);
}

/*
 * Check the host before the project's VMs start.  A project whose VMs
 * already run is left to castrad, which says so.
 */
int
preflight_up(struct castra *c, int force, castra_event_fn *fn, void *arg,
    struct castra_error *ce)
{
	struct instance	*insts;
	size_t		 ninsts;
	int		 rv = -1;

	if (preflight_running(c))
		return (0);
	if (config_instances(c->c_cfg, &insts, &ninsts) == -1) {
		castra_seterr(ce, 65, "cannot expand the VMs of %s",
		    c->c_config);
		return (-1);
	}
	if (preflight_memory(insts, ninsts, force, fn, arg, ce) == 0 &&
	    preflight_disk(c->c_root, force, fn, arg, ce) == 0 &&
	    preflight_ports(insts, ninsts, force, fn, arg, ce) == 0)
		rv = 0;
	free(insts);
	return (rv);
}

/* Does a record say that one of the project's VMs runs? */
int
preflight_running(struct castra *c)
{
	struct instance	*insts;
	json_t		*o;
	size_t		 ninsts, i;
	char		 path[PATH_MAX];
	int		 rootfd, running = 0;

	if ((rootfd = open(c->c_root, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return (0);
	if (config_instances(c->c_cfg, &insts, &ninsts) == -1) {
		close(rootfd);
		return (0);
	}
	for (i = 0; i < ninsts && !running; i++) {
		snprintf(path, sizeof(path), "vms/%s.json", insts[i].in_name);
		if (state_read_json(rootfd, path, &o) == -1)
			continue;
		running = state_pid_matches(
		    json_integer_value(json_object_get(o, "pid")),
		    json_integer_value(json_object_get(o, "start_time")));
		json_decref(o);
	}
	free(insts);
	close(rootfd);
	return (running);
}
