/*
 * castra-broker(8): the process.  castrad starts it with its channel
 * on PROC_PARENT_FD and hands it, per project, the state root and a
 * listening socket already bound to 127.0.0.1.  The broker confines
 * itself before it has received anything: it needs no path of its
 * own, only those descriptors.
 */

#include <sys/types.h>
#include <sys/resource.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "imsg.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"

struct projects	 broker_projects =
    TAILQ_HEAD_INITIALIZER(broker_projects);
int		 broker_conn_max = BROKER_CONN_MAX;
int		 broker_nconns;

static struct event	 broker_sigterm_ev, broker_sigint_ev;

RB_GENERATE(bvms, bvm, vm_entry, bvm_cmp);

/*
 * What the broker still does once confined, beyond what every child
 * needs (lib/sandbox.c), and why.
 */
static const int broker_syscalls[] = {
	SCMP_SYS(accept4),	/* guests and host sessions */
	SCMP_SYS(read),		/* sockets; the channel to castrad */
	SCMP_SYS(write),	/* sockets; records */
	SCMP_SYS(readv),	/* evbuffer I/O of sessions */
	SCMP_SYS(writev),
	SCMP_SYS(recvmsg),	/* imsg, with descriptors from castrad */
	SCMP_SYS(sendmsg),	/* imsg to castrad */
	SCMP_SYS(close),
	SCMP_SYS(setsockopt),	/* a session's small send buffer */
	SCMP_SYS(fcntl),	/* a passed listener made non-blocking */
	SCMP_SYS(openat2),	/* records, beneath the state root's fd */
	SCMP_SYS(openat),	/* /dev/urandom: arc4random, session ids */
	SCMP_SYS(mkdirat),	/* handshakes/, logs/, logs/bus/ */
	SCMP_SYS(renameat),	/* atomic <vm>.json, log rotation */
	SCMP_SYS(renameat2),	/* what glibc may use for renameat */
	SCMP_SYS(unlinkat),	/* a record's temporary file, a planted link */
	SCMP_SYS(fstat),	/* a log's size before appending */
	SCMP_SYS(newfstatat),	/* glibc's fstat */
	SCMP_SYS(getrandom),	/* session ids (arc4random) */
	SCMP_SYS(clock_gettime), /* timestamps and deadlines */
	SCMP_SYS(gettimeofday),	/* libevent */
	SCMP_SYS(epoll_wait),	/* libevent */
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(exit_group),
};

int64_t
broker_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Unread input makes close(2) send a reset, which can destroy a reply
 * still on its way; take what has arrived first.
 */
void
broker_close(int fd)
{
	char	 buf[4096];
	int	 i;

	for (i = 0; i < 4 && read(fd, buf, sizeof(buf)) > 0; i++)
		;
	close(fd);
}

int
bvm_cmp(struct bvm *a, struct bvm *b)
{
	return (strcmp(a->vm_name, b->vm_name));
}

struct bvm *
broker_vm_find(struct project *pj, const char *name)
{
	struct bvm	 key;

	strlcpy(key.vm_name, name, sizeof(key.vm_name));
	return (RB_FIND(bvms, &pj->pj_vms, &key));
}

/* The VM of that name, made if it is new. */
struct bvm *
broker_vm_get(struct project *pj, const char *name)
{
	struct bvm	*vm;

	if ((vm = broker_vm_find(pj, name)) != NULL)
		return (vm);
	if ((vm = calloc(1, sizeof(*vm))) == NULL) {
		log_warn("%s: %s", pj->pj_id, name);
		return (NULL);
	}
	vm->vm_project = pj;
	strlcpy(vm->vm_name, name, sizeof(vm->vm_name));
	evtimer_set(&vm->vm_flush_ev, records_flush, vm);
	RB_INSERT(bvms, &pj->pj_vms, vm);
	pj->pj_nvms++;
	return (vm);
}

void
broker_vm_release(struct bvm *vm)
{
	if (evtimer_pending(&vm->vm_flush_ev, NULL))
		evtimer_del(&vm->vm_flush_ev);
	RB_REMOVE(bvms, &vm->vm_project->pj_vms, vm);
	vm->vm_project->pj_nvms--;
	free(vm);
}

static struct project *
broker_project_find(const char *id)
{
	struct project	*pj;

	TAILQ_FOREACH(pj, &broker_projects, pj_entry)
		if (strcmp(pj->pj_id, id) == 0)
			return (pj);
	return (NULL);
}

static struct project *
broker_project_new(const char *id)
{
	struct project	*pj;

	if ((pj = calloc(1, sizeof(*pj))) == NULL)
		fatal("%s", __func__);
	strlcpy(pj->pj_id, id, sizeof(pj->pj_id));
	pj->pj_dirfd = -1;
	pj->pj_listenfd = -1;
	pj->pj_brokerlog.lf_fd = -1;
	pj->pj_hsevents.lf_fd = -1;
	pj->pj_busevents.lf_fd = -1;
	pj->pj_buslog.lf_fd = -1;
	RB_INIT(&pj->pj_vms);
	TAILQ_INIT(&pj->pj_sessions);
	TAILQ_INSERT_TAIL(&broker_projects, pj, pj_entry);
	return (pj);
}

/* IMSG_BROKER_PROJECT: new, or an update after a restart of either. */
static int
broker_project(struct imsg *imsg)
{
	struct broker_project	 bp;
	struct project		*pj;
	int			 fd;

	if (proto_read_broker_project(imsg, &bp) == -1)
		return (-1);
	if ((fd = imsg_get_fd(imsg)) == -1) {
		log_warnx("%s: no state root", bp.bp_id);
		return (0);
	}
	if ((pj = broker_project_find(bp.bp_id)) == NULL)
		pj = broker_project_new(bp.bp_id);
	strlcpy(pj->pj_token, bp.bp_token, sizeof(pj->pj_token));
	pj->pj_port = bp.bp_port;
	pj->pj_hello_timeout = bp.bp_hello_timeout > 0 ?
	    (int)bp.bp_hello_timeout : BROKER_HELLO_TIMEOUT;
	pj->pj_heartbeat_timeout = bp.bp_heartbeat_timeout > 0 ?
	    (int)bp.bp_heartbeat_timeout : BROKER_HEARTBEAT_TIMEOUT;
	if (pj->pj_dirfd != -1) {
		records_close(pj);
		close(pj->pj_dirfd);
	}
	pj->pj_dirfd = fd;
	records_init(pj);
	log_debug("%s: project %s", __func__, pj->pj_id);
	return (0);
}

static int
broker_listen(struct imsg *imsg)
{
	struct broker_project	 bp;
	struct project		*pj;
	int			 fd;

	if (proto_read_broker_project(imsg, &bp) == -1)
		return (-1);
	if ((fd = imsg_get_fd(imsg)) == -1) {
		log_warnx("%s: no listener", bp.bp_id);
		return (0);
	}
	if ((pj = broker_project_find(bp.bp_id)) == NULL) {
		log_warnx("%s: listener for an unknown project", bp.bp_id);
		close(fd);
		return (0);
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		log_warn("%s: listener", pj->pj_id);
		close(fd);
		return (0);
	}
	conn_listen(pj, fd);
	records_log(pj, "INFO", "listening on 127.0.0.1:%u",
	    (unsigned)pj->pj_port);
	return (0);
}

static int
broker_vm(struct imsg *imsg)
{
	struct broker_vm	 bv;
	struct project		*pj;
	struct bvm		*vm;

	if (proto_read_broker_vm(imsg, &bv) == -1)
		return (-1);
	if ((pj = broker_project_find(bv.bv_project)) == NULL) {
		log_warnx("%s: VM %s of an unknown project", bv.bv_project,
		    bv.bv_name);
		return (0);
	}
	if (bv.bv_token[0] == '\0') {
		/* Forgotten: its name is open to any guest again. */
		if ((vm = broker_vm_find(pj, bv.bv_name)) == NULL)
			return (0);
		vm->vm_token[0] = '\0';
		if (!vm->vm_record && vm->vm_session == NULL)
			broker_vm_release(vm);
		return (0);
	}
	if ((vm = broker_vm_get(pj, bv.bv_name)) == NULL)
		return (0);
	strlcpy(vm->vm_token, bv.bv_token, sizeof(vm->vm_token));
	return (0);
}

/* IMSG_BROKER_STOP: the project goes down; forget all of it. */
static void
broker_project_free(struct project *pj)
{
	struct bvm	*vm, *next;

	conn_unlisten(pj);
	conn_close_project(pj);
	session_close_project(pj);
	RB_FOREACH_SAFE(vm, bvms, &pj->pj_vms, next) {
		if (vm->vm_dirty)
			records_vm(vm, 1);
		broker_vm_release(vm);
	}
	records_log(pj, "INFO", "stopped");
	records_close(pj);
	if (pj->pj_dirfd != -1)
		close(pj->pj_dirfd);
	TAILQ_REMOVE(&broker_projects, pj, pj_entry);
	free(pj);
}

static int
broker_stop(struct imsg *imsg)
{
	struct broker_project	 bp;
	struct project		*pj;

	if (proto_read_broker_project(imsg, &bp) == -1)
		return (-1);
	if ((pj = broker_project_find(bp.bp_id)) != NULL)
		broker_project_free(pj);
	/* The port is free now: castrad may bind it again at once. */
	proc_parent_compose(IMSG_BROKER_STOP_RESPONSE, 0, -1, &bp,
	    sizeof(bp));
	return (0);
}

static int
broker_dispatch(struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_BROKER_PROJECT:
		return (broker_project(imsg));
	case IMSG_BROKER_LISTEN:
		return (broker_listen(imsg));
	case IMSG_BROKER_VM:
		return (broker_vm(imsg));
	case IMSG_BROKER_STOP:
		return (broker_stop(imsg));
	default:
		return (-1);
	}
}

static void
broker_shutdown(int sig, short event, void *arg)
{
	struct project	*pj;

	while ((pj = TAILQ_FIRST(&broker_projects)) != NULL)
		broker_project_free(pj);
	log_debug("%s: exiting on signal %d", __func__, sig);
	exit(0);
}

/*
 * Thousands of guests need thousands of descriptors: take the hard
 * limit, and cap connections below it.
 */
static void
broker_limits(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit");
	else if (rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)BROKER_CONN_MAX + BROKER_FD_RESERVE)
		broker_conn_max = rl.rlim_cur > 2 * BROKER_FD_RESERVE ?
		    (int)rl.rlim_cur - BROKER_FD_RESERVE : BROKER_FD_RESERVE;
	log_debug("%s: at most %d connections", __func__, broker_conn_max);
}

static void
broker_sandbox(void)
{
	static char	 empty[1024];
	struct sandbox	 sb;

	memset(&sb, 0, sizeof(sb));
	sb.sb_name = "castra-broker";
	/* As root: an empty directory castrad made; the paths are fds. */
	if (geteuid() == 0) {
		snprintf(empty, sizeof(empty), "%s/empty", proc_env.pe_home);
		sb.sb_chroot = empty;
	}
	/* As a user: Landlock with no path at all. */
	sb.sb_paths = NULL;
	sb.sb_npaths = 0;
	sb.sb_syscalls = broker_syscalls;
	sb.sb_nsyscalls = sizeof(broker_syscalls) / sizeof(broker_syscalls[0]);
	sandbox_enter(&sb);
}

int
main(int argc, char *argv[])
{
	proc_child_init(argc, argv, "castra-broker");

	/* Local time for the log lines: loaded before the chroot. */
	tzset();
	broker_limits();
	event_init();
	signal(SIGPIPE, SIG_IGN);
	signal_set(&broker_sigterm_ev, SIGTERM, broker_shutdown, NULL);
	signal_set(&broker_sigint_ev, SIGINT, broker_shutdown, NULL);
	signal_add(&broker_sigterm_ev, NULL);
	signal_add(&broker_sigint_ev, NULL);

	broker_sandbox();
	proc_child_listen(broker_dispatch);
	log_debug("%s: ready", __func__);
	event_dispatch();
	return (0);
}
