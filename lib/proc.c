/*
 * Starting, watching and talking to castrad's children.
 *
 * castrad forks each child and execs its program afresh, so that no
 * state of the parent leaks into it and ps shows its role.  The child
 * finds its end of a socketpair on PROC_PARENT_FD.  A child that dies
 * is started again after a delay that grows with repeated deaths; a
 * child whose parent goes away exits.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "imsg.h"
#include "log.h"
#include "proc.h"
#include "proto.h"

#define PROC_RESTART_MAX_DELAY	8	/* seconds */

struct proc_env		 proc_env;

static struct proc	*procs;
static size_t		 nprocs;
static struct imsgev	 parent_iev;
static int		(*child_dispatch)(struct imsg *);

static void	proc_dispatch(int, short, void *);
static void	proc_restart(int, short, void *);
static void	child_channel(int, short, void *);

void
imsgev_init(struct imsgev *iev, int fd, void (*handler)(int, short, void *),
    void *data)
{
	if (imsgbuf_init(&iev->ibuf, fd) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&iev->ibuf);
	iev->handler = handler;
	iev->data = data;
	iev->events = EV_READ;
	event_set(&iev->ev, fd, iev->events, iev->handler, iev);
	event_add(&iev->ev, NULL);
}

/* Re-arm the event, asking for EV_WRITE while messages are queued. */
void
imsgev_add(struct imsgev *iev)
{
	iev->events = EV_READ;
	if (imsgbuf_queuelen(&iev->ibuf) > 0)
		iev->events |= EV_WRITE;
	event_del(&iev->ev);
	event_set(&iev->ev, iev->ibuf.fd, iev->events, iev->handler, iev);
	event_add(&iev->ev, NULL);
}

void
imsgev_clear(struct imsgev *iev)
{
	event_del(&iev->ev);
	imsgbuf_clear(&iev->ibuf);
	close(iev->ibuf.fd);
	iev->ibuf.fd = -1;
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const void *data, size_t len)
{
	if (iev->ibuf.fd == -1) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return (-1);
	}
	if (imsg_compose(&iev->ibuf, type, peerid, pid, fd, data, len) == -1)
		return (-1);
	imsgev_add(iev);
	return (0);
}

/*
 * Read and write what the event asks for.  Returns 1 while the channel
 * is open and 0 once the other side has closed it.
 */
int
imsgev_read(struct imsgev *iev, short event)
{
	int	 n;

	if (event & EV_READ) {
		if ((n = imsgbuf_read(&iev->ibuf)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return (1);
			log_warn("%s: imsgbuf_read", __func__);
			return (0);
		}
		if (n == 0)
			return (0);
	}
	if (event & EV_WRITE) {
		if (imsgbuf_write(&iev->ibuf) == -1) {
			if (errno != EPIPE)
				log_warn("%s: imsgbuf_write", __func__);
			return (0);
		}
	}
	return (1);
}

void
proc_init(struct proc *table, size_t n)
{
	procs = table;
	nprocs = n;
}

struct proc *
proc_byid(enum procid id)
{
	size_t	 i;

	for (i = 0; i < nprocs; i++)
		if (procs[i].p_id == id)
			return (&procs[i]);
	return (NULL);
}

/* Build the argument vector that carries castrad's options over. */
static void
proc_argv(struct proc *p, char *path, size_t pathlen, char **argv,
    size_t argvlen)
{
	static char	 verbose[8] = "-v";
	size_t		 n = 0;
	int		 i;

	snprintf(path, pathlen, "%s/%s", proc_env.pe_bindir, p->p_name);
	argv[n++] = (char *)p->p_name;
	if (proc_env.pe_debug)
		argv[n++] = "-d";
	for (i = 1; i < proc_env.pe_verbose && i < 6; i++)
		verbose[i + 1] = 'v';
	if (proc_env.pe_verbose > 0)
		argv[n++] = verbose;
	if (proc_env.pe_seccomp_log)
		argv[n++] = "-S";
	argv[n++] = "-H";
	argv[n++] = (char *)proc_env.pe_home;
	argv[n] = NULL;
	if (n >= argvlen)
		fatalx("%s: too many arguments", __func__);
}

void
proc_start(struct proc *p)
{
	char	 path[1024], *argv[12];
	int	 sp[2];
	pid_t	 pid;

	proc_argv(p, path, sizeof(path), argv, sizeof(argv) / sizeof(*argv));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("%s: socketpair", __func__);

	switch (pid = fork()) {
	case -1:
		fatal("%s: fork", __func__);
	case 0:
		/* dup2() onto itself would leave close-on-exec set. */
		if (sp[1] == PROC_PARENT_FD) {
			if (fcntl(sp[1], F_SETFD, 0) == -1)
				_exit(1);
		} else if (dup2(sp[1], PROC_PARENT_FD) == -1)
			_exit(1);
		closefrom(PROC_PARENT_FD + 1);
		execv(path, argv);
		fprintf(stderr, "castrad: exec %s: %s\n", path,
		    strerror(errno));
		_exit(1);
	}

	close(sp[1]);
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	p->p_pid = pid;
	p->p_alive = 1;
	imsgev_init(&p->p_iev, sp[0], proc_dispatch, p);
	log_debug("%s: started %s, pid %d", __func__, p->p_name, pid);
	if (p->p_started != NULL)
		p->p_started(p);
}

static void
proc_dispatch(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct proc	*p = iev->data;
	struct imsg	 imsg;
	int		 n;

	if (!imsgev_read(iev, event)) {
		/*
		 * The child closed its channel or wrote bytes that are not
		 * a message; imsg refuses the latter on reading.  Either
		 * way it is of no further use: make sure it is gone, and
		 * proc_reap() starts it again.
		 */
		imsgev_clear(iev);
		if (p->p_alive)
			kill(p->p_pid, SIGKILL);
		return;
	}
	for (;;) {
		if ((n = imsgbuf_get(&iev->ibuf, &imsg)) == -1) {
			log_warn("%s: malformed message", p->p_name);
			goto kill;
		}
		if (n == 0)
			break;
		if (p->p_dispatch(p, &imsg) == -1) {
			log_warnx("%s: unexpected message type %u",
			    p->p_name, imsg_get_type(&imsg));
			imsg_free(&imsg);
			goto kill;
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
	return;

 kill:
	/* A child that speaks nonsense is not trusted to go on. */
	imsgev_clear(iev);
	kill(p->p_pid, SIGKILL);
}

static struct proc *
proc_bypid(pid_t pid)
{
	size_t	 i;

	for (i = 0; i < nprocs; i++)
		if (procs[i].p_alive && procs[i].p_pid == pid)
			return (&procs[i]);
	return (NULL);
}

static void
proc_log_death(struct proc *p, int status)
{
	if (WIFSIGNALED(status))
		log_warnx("%s (pid %d) killed by signal %d (%s), restarting",
		    p->p_name, p->p_pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		log_warnx("%s (pid %d) exited with status %d, restarting",
		    p->p_name, p->p_pid, WEXITSTATUS(status));
}

/* Called on SIGCHLD: log each dead child and schedule its restart. */
void
proc_reap(void)
{
	struct proc	*p;
	struct timeval	 tv;
	pid_t		 pid;
	int		 status, delay;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((p = proc_bypid(pid)) == NULL)
			continue;
		proc_log_death(p, status);
		p->p_alive = 0;
		if (p->p_iev.ibuf.fd != -1)
			imsgev_clear(&p->p_iev);
		delay = p->p_restarts < 3 ? p->p_restarts : 1 << p->p_restarts;
		if (delay > PROC_RESTART_MAX_DELAY)
			delay = PROC_RESTART_MAX_DELAY;
		p->p_restarts++;
		timerclear(&tv);
		tv.tv_sec = delay;
		evtimer_set(&p->p_restart_ev, proc_restart, p);
		evtimer_add(&p->p_restart_ev, &tv);
	}
}

static void
proc_restart(int fd, short event, void *arg)
{
	proc_start(arg);
}

/* Ask every child to stop and wait for them, briefly. */
void
proc_shutdown(void)
{
	size_t	 i;
	int	 tries;

	for (i = 0; i < nprocs; i++) {
		if (evtimer_initialized(&procs[i].p_restart_ev) &&
		    evtimer_pending(&procs[i].p_restart_ev, NULL))
			evtimer_del(&procs[i].p_restart_ev);
		if (procs[i].p_alive)
			kill(procs[i].p_pid, SIGTERM);
	}
	for (tries = 0; tries < 50; tries++) {
		for (i = 0; i < nprocs; i++)
			if (procs[i].p_alive &&
			    waitpid(procs[i].p_pid, NULL, WNOHANG) ==
			    procs[i].p_pid)
				procs[i].p_alive = 0;
		for (i = 0; i < nprocs && !procs[i].p_alive; i++)
			;
		if (i == nprocs)
			return;
		usleep(100 * 1000);
	}
	for (i = 0; i < nprocs; i++)
		if (procs[i].p_alive) {
			log_warnx("%s did not stop, killing it",
			    procs[i].p_name);
			kill(procs[i].p_pid, SIGKILL);
			waitpid(procs[i].p_pid, NULL, 0);
		}
}

int
proc_compose(enum procid id, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct proc	*p;

	if ((p = proc_byid(id)) == NULL || !p->p_alive) {
		if (fd != -1)
			close(fd);
		errno = ESRCH;
		return (-1);
	}
	return (imsgev_compose(&p->p_iev, type, peerid, 0, fd, data, len));
}

/*
 * A child's start: the options castrad passed on, logging under the
 * child's own name, and death with the parent.
 */
void
proc_child_init(int argc, char **argv, const char *name)
{
	int	 ch;

	while ((ch = getopt(argc, argv, "dH:Sv")) != -1) {
		switch (ch) {
		case 'd':
			proc_env.pe_debug = 1;
			break;
		case 'H':
			proc_env.pe_home = optarg;
			break;
		case 'S':
			proc_env.pe_seccomp_log = 1;
			break;
		case 'v':
			proc_env.pe_verbose++;
			break;
		default:
			fprintf(stderr, "usage: %s [-dSv] -H home\n", name);
			exit(1);
		}
	}
	if (proc_env.pe_home == NULL) {
		fprintf(stderr, "%s: is started by castrad(8)\n", name);
		exit(1);
	}

	log_init(proc_env.pe_debug, LOG_DAEMON);
	log_setverbose(proc_env.pe_verbose);
	log_procinit(name);

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		fatal("prctl PR_SET_PDEATHSIG");
	if (getppid() == 1)
		fatalx("parent went away before %s started", name);
	if (fcntl(PROC_PARENT_FD, F_GETFD) == -1)
		fatalx("no channel to castrad on descriptor %d",
		    PROC_PARENT_FD);
	if (fcntl(PROC_PARENT_FD, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(PROC_PARENT_FD, F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
}

/* Listen on the channel to castrad; call after event_init(). */
void
proc_child_listen(int (*dispatch)(struct imsg *))
{
	child_dispatch = dispatch;
	imsgev_init(&parent_iev, PROC_PARENT_FD, child_channel, NULL);
}

static void
child_channel(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct imsg	 imsg;
	int		 n;

	if (!imsgev_read(iev, event)) {
		log_debug("castrad closed the channel, exiting");
		exit(0);
	}
	for (;;) {
		if ((n = imsgbuf_get(&iev->ibuf, &imsg)) == -1)
			fatal("malformed message from castrad");
		if (n == 0)
			break;
		if (child_dispatch(&imsg) == -1)
			fatalx("unexpected message type %u from castrad",
			    imsg_get_type(&imsg));
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

int
proc_parent_compose(uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	return (imsgev_compose(&parent_iev, type, peerid, 0, fd, data, len));
}
