/*
 * castra ports: the host ports a project declares, which of them
 * collide, and, when asked, whether each is bound right now.
 */

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"
#include "config.h"
#include "state.h"

struct ports {
	struct castra_ports	 p_pub;
	struct castra_port	*p_ports;
	char			**p_strings;	/* what p_ports point into */
	size_t			 p_nstrings;
	const char		**p_unforwarded;
};

static char *
ports_strdup(struct ports *p, const char *s)
{
	char	*copy;

	if ((copy = strdup(s)) == NULL)
		return (NULL);
	p->p_strings[p->p_nstrings++] = copy;
	return (copy);
}

/* Do two binds share a port?  The wildcard address shares with all. */
static int
ports_overlap(const struct castra_port *a, const struct castra_port *b)
{
	if (a->pt_host != b->pt_host || strcmp(a->pt_proto, b->pt_proto) != 0)
		return (0);
	return (strcmp(a->pt_bind, b->pt_bind) == 0 ||
	    strcmp(a->pt_bind, "0.0.0.0") == 0 ||
	    strcmp(b->pt_bind, "0.0.0.0") == 0 ||
	    strcmp(a->pt_bind, "::") == 0 || strcmp(b->pt_bind, "::") == 0);
}

/*
 * Is the port bound now?  Bind a socket of our own to it: EADDRINUSE
 * says someone holds it.  SO_REUSEADDR keeps a closing TCP connection
 * in TIME_WAIT from counting as a holder.
 */
static const char *
ports_probe(const struct castra_port *pt, const char **detail)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 s, on = 1, r, saved;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, pt->pt_bind, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(pt->pt_host);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, pt->pt_bind, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(pt->pt_host);
		len = sizeof(*sin6);
	} else {
		*detail = "the bind address is not numeric";
		return ("unknown");
	}
	if ((s = socket(ss.ss_family, (strcmp(pt->pt_proto, "udp") == 0 ?
	    SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0)) == -1) {
		*detail = strerror(errno);
		return ("unknown");
	}
	if (strcmp(pt->pt_proto, "tcp") == 0)
		(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on));
	r = bind(s, (struct sockaddr *)&ss, len);
	saved = errno;
	close(s);
	if (r == 0)
		return ("free");
	if (saved == EADDRINUSE)
		return ("bound");
	*detail = strerror(saved);
	return ("unknown");
}

static void
ports_activity(struct castra_port *pt, const char *vmstate)
{
	const char	*bound, *detail = NULL;
	int		 up;

	up = strcmp(vmstate, "running") == 0 ||
	    strcmp(vmstate, "starting") == 0 ||
	    strcmp(vmstate, "stopping") == 0;
	bound = ports_probe(pt, &detail);
	if (strcmp(bound, "unknown") == 0) {
		pt->pt_status = "unknown";
		pt->pt_detail = detail;
	} else if (up && strcmp(bound, "bound") == 0) {
		pt->pt_status = "active";
	} else if (up) {
		pt->pt_status = "inactive";
		pt->pt_detail = "the VM runs but the port is not bound";
	} else if (strcmp(bound, "bound") == 0) {
		pt->pt_status = "in-use";
		pt->pt_detail = "the VM is stopped and another program holds "
		    "the port";
	} else {
		pt->pt_status = "inactive";
		pt->pt_detail = "the VM is stopped";
	}
}

static const char *
ports_vm_state(const struct castra_status *st, const char *name)
{
	size_t	 i;

	for (i = 0; i < st->st_nvms; i++)
		if (strcmp(st->st_vms[i].vs_name, name) == 0)
			return (st->st_vms[i].vs_state);
	return ("stopped");
}

static void
ports_conflicts(struct ports *p)
{
	struct castra_port	*a, *b;
	size_t			 i, j;

	for (i = 0; i < p->p_pub.ps_nports; i++) {
		a = &p->p_ports[i];
		if (a->pt_host == p->p_pub.ps_broker_port &&
		    strcmp(a->pt_proto, "tcp") == 0) {
			a->pt_status = "broker-reserved";
			a->pt_detail = "the broker listens on this port";
		}
		for (j = 0; j < p->p_pub.ps_nports; j++) {
			b = &p->p_ports[j];
			if (i == j || !ports_overlap(a, b))
				continue;
			a->pt_status = "conflict";
			a->pt_detail = b->pt_vm;
			break;
		}
	}
}

int
castra_ports(struct castra *c, int active, struct castra_ports **pp,
    struct castra_error *ce)
{
	struct castra_status	*st = NULL;
	struct ports		*p;
	struct instance		*ins = NULL;
	const struct vm		*vm;
	struct castra_port	*pt;
	size_t			 i, n = 0, k = 0, nun = 0;
	int			 j;

	*pp = NULL;
	if (ce != NULL)
		memset(ce, 0, sizeof(*ce));
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    config_instances(c->c_cfg, &ins, &n) == -1)
		goto nomem;
	for (i = 0; i < n; i++)
		k += ins[i].in_vm->vm_nforwards;
	if ((p->p_ports = calloc(k + 1, sizeof(*p->p_ports))) == NULL ||
	    (p->p_strings = calloc(2 * k + n + 1, sizeof(char *))) == NULL ||
	    (p->p_unforwarded = calloc(n + 1, sizeof(char *))) == NULL)
		goto nomem;
	if (castra_status(c, &st, ce) == -1)
		goto fail;
	p->p_pub.ps_broker_port = st->st_broker_port;
	p->p_pub.ps_broker_state = strcmp(st->st_broker_state,
	    "listening") == 0 ? "listening" : "stopped";
	p->p_pub.ps_ports = p->p_ports;
	p->p_pub.ps_unforwarded = p->p_unforwarded;

	for (i = 0; i < n; i++) {
		vm = ins[i].in_vm;
		if (vm->vm_nforwards == 0 &&
		    (p->p_unforwarded[nun++] = ports_strdup(p,
		    ins[i].in_name)) == NULL)
			goto nomem;
		for (j = 0; j < vm->vm_nforwards; j++) {
			pt = &p->p_ports[p->p_pub.ps_nports++];
			if ((pt->pt_vm = ports_strdup(p,
			    ins[i].in_name)) == NULL ||
			    (pt->pt_bind = ports_strdup(p,
			    vm->vm_forwards[j].fw_bind[0] != '\0' ?
			    vm->vm_forwards[j].fw_bind : "127.0.0.1")) == NULL)
				goto nomem;
			pt->pt_proto = vm->vm_forwards[j].fw_proto ==
			    FORWARD_UDP ? "udp" : "tcp";
			/* Instance i moves its host ports up by i. */
			pt->pt_host = vm->vm_forwards[j].fw_host +
			    ins[i].in_index;
			pt->pt_guest = vm->vm_forwards[j].fw_guest;
			pt->pt_status = "declared";
		}
	}
	ports_conflicts(p);
	for (i = 0; active && i < p->p_pub.ps_nports; i++) {
		pt = &p->p_ports[i];
		if (strcmp(pt->pt_status, "declared") == 0)
			ports_activity(pt, ports_vm_state(st, pt->pt_vm));
	}
	castra_status_free(st);
	free(ins);
	*pp = &p->p_pub;
	return (0);

 nomem:
	castra_seterr(ce, 70, "out of memory listing the ports");
 fail:
	castra_status_free(st);
	free(ins);
	if (p != NULL)
		castra_ports_free(&p->p_pub);
	return (-1);
}

void
castra_ports_free(struct castra_ports *ps)
{
	struct ports	*p = (struct ports *)ps;
	size_t		 i;

	if (ps == NULL)
		return;
	for (i = 0; i < p->p_nstrings; i++)
		free(p->p_strings[i]);
	free(p->p_strings);
	free(p->p_ports);
	free(p->p_unforwarded);
	free(p);
}
