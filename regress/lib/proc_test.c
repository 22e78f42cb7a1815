/*
 * The process framework with a real child and a real libevent loop:
 * proc_start() execs proc_child with its channel on PROC_PARENT_FD,
 * messages and descriptors travel both ways, a child that dies or
 * misbehaves is started again, and a child whose channel closes exits.
 */

#include <sys/types.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "imsg.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "proc_child.h"

#define WAIT_SECONDS	10	/* a test that waits longer has failed */

static int	test_dispatch(struct proc *, struct imsg *);

static struct proc procs[] = {
	{ .p_id = PROC_BROKER, .p_name = PT_NAME,
	  .p_dispatch = test_dispatch },
};
static struct proc	*child = &procs[0];

static struct {
	int		 r_pongs;
	pid_t		 r_pid;
	uint32_t	 r_id;
	char		 r_args[512];
} reply;

static char		 bindir[PATH_MAX], home[PATH_MAX];
static struct event	 ev_sigchld;

static int
test_dispatch(struct proc *p, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case PT_PONG:
		if (imsg_get_data(imsg, &reply.r_pid,
		    sizeof(reply.r_pid)) == -1)
			return (-1);
		reply.r_id = imsg_get_id(imsg);
		reply.r_pongs++;
		return (0);
	case PT_ARGS_REPLY:
		if (imsg_get_strbuf(imsg, reply.r_args,
		    sizeof(reply.r_args)) == -1)
			return (-1);
		return (0);
	}
	return (-1);
}

static void
on_sigchld(int sig, short event, void *arg)
{
	proc_reap();
}

static void
on_tick(int fd, short event, void *arg)
{
}

/* Run the event loop until done(arg) holds or the time is up. */
static int
run_until(int (*done)(void *), void *arg)
{
	struct event	 tick;
	struct timeval	 tv;
	time_t		 deadline;

	deadline = time(NULL) + WAIT_SECONDS;
	evtimer_set(&tick, on_tick, NULL);
	while (!done(arg) && time(NULL) < deadline) {
		tv.tv_sec = 0;
		tv.tv_usec = 20 * 1000;
		evtimer_add(&tick, &tv);
		event_loop(EVLOOP_ONCE);
	}
	evtimer_del(&tick);
	return (done(arg));
}

static int
pongs_reach(void *arg)
{
	return (reply.r_pongs >= *(int *)arg);
}

static int
args_came(void *arg)
{
	return (reply.r_args[0] != '\0');
}

static int
restarted(void *arg)
{
	return (child->p_alive && child->p_pid != *(pid_t *)arg &&
	    child->p_iev.ibuf.fd != -1);
}

/* Ping the child and return the pid it answers with. */
static pid_t
ping(void)
{
	int	 want = reply.r_pongs + 1;

	ATF_REQUIRE(proc_compose(PROC_BROKER, PT_PING, 4242, -1, NULL,
	    0) == 0);
	ATF_REQUIRE_MSG(run_until(pongs_reach, &want), "no answer");
	ATF_REQUIRE_EQ(reply.r_id, 4242U);
	return (reply.r_pid);
}

/* The child lives beside this program in the build tree. */
static void
find_bindir(void)
{
	char	 self[PATH_MAX];
	ssize_t	 n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ATF_REQUIRE(n > 0);
	self[n] = '\0';
	strlcpy(bindir, dirname(self), sizeof(bindir));
	if (snprintf(self, sizeof(self), "%s/%s", bindir, PT_NAME) >=
	    (int)sizeof(self) || access(self, X_OK) == -1)
		atf_tc_fail("%s is not built", self);
}

static void
setup(void)
{
	find_bindir();
	ATF_REQUIRE(getcwd(home, sizeof(home)) != NULL);
	log_init(1, LOG_DAEMON);
	log_setverbose(1);
	proc_env.pe_debug = 1;
	proc_env.pe_verbose = 2;
	proc_env.pe_home = home;
	proc_env.pe_bindir = bindir;

	event_init();
	signal_set(&ev_sigchld, SIGCHLD, on_sigchld, NULL);
	signal_add(&ev_sigchld, NULL);
	proc_init(procs, sizeof(procs) / sizeof(procs[0]));
	proc_start(child);
	ATF_REQUIRE(child->p_alive);
}

static void
teardown(void)
{
	proc_shutdown();
}

ATF_TC_WITHOUT_HEAD(child_answers);
ATF_TC_BODY(child_answers, tc)
{
	setup();
	ATF_REQUIRE_EQ(ping(), child->p_pid);
	ATF_REQUIRE_EQ(ping(), child->p_pid);
	teardown();
}

ATF_TC_WITHOUT_HEAD(child_gets_options);
ATF_TC_BODY(child_gets_options, tc)
{
	char	 want[sizeof(reply.r_args)];

	setup();
	ATF_REQUIRE(proc_compose(PROC_BROKER, PT_ARGS, 0, -1, NULL, 0) == 0);
	ATF_REQUIRE_MSG(run_until(args_came, NULL), "no answer");
	ATF_REQUIRE(snprintf(want, sizeof(want), "d=1 v=2 S=0 H=%s",
	    home) < (int)sizeof(want));
	ATF_REQUIRE_STREQ(reply.r_args, want);
	teardown();
}

ATF_TC_WITHOUT_HEAD(descriptor_to_child);
ATF_TC_BODY(descriptor_to_child, tc)
{
	char	 buf[8];
	int	 p[2], want;

	setup();
	ATF_REQUIRE(pipe(p) == 0);
	want = reply.r_pongs + 1;
	ATF_REQUIRE(proc_compose(PROC_BROKER, PT_WRITE_FD, 0, p[1], NULL,
	    0) == 0);
	ATF_REQUIRE_MSG(run_until(pongs_reach, &want), "no answer");
	memset(buf, 0, sizeof(buf));
	ATF_REQUIRE_EQ(read(p[0], buf, sizeof(buf) - 1), 5);
	ATF_REQUIRE_STREQ(buf, "child");
	/* Every copy of the write end is closed: the pipe ends. */
	ATF_REQUIRE_EQ(read(p[0], buf, 1), 0);
	close(p[0]);
	teardown();
}

ATF_TC_WITHOUT_HEAD(killed_child_restarts);
ATF_TC_BODY(killed_child_restarts, tc)
{
	pid_t	 old;

	setup();
	old = ping();
	ATF_REQUIRE(kill(old, SIGKILL) == 0);
	ATF_REQUIRE_MSG(run_until(restarted, &old), "not restarted");
	ATF_REQUIRE_EQ(child->p_restarts, 1);
	ATF_REQUIRE(kill(old, 0) == -1 && errno == ESRCH);
	ATF_REQUIRE_EQ(ping(), child->p_pid);
	teardown();
}

ATF_TC_WITHOUT_HEAD(child_exits_when_channel_closes);
ATF_TC_BODY(child_exits_when_channel_closes, tc)
{
	pid_t	 pid, w;
	int	 i, status;

	setup();
	pid = ping();
	/* Close the parent's end, as a dying castrad would. */
	imsgev_clear(&child->p_iev);
	for (i = 0; i < WAIT_SECONDS * 100; i++) {
		if ((w = waitpid(pid, &status, WNOHANG)) != 0)
			break;
		usleep(10 * 1000);
	}
	ATF_REQUIRE_EQ_MSG(w, pid, "the child did not exit");
	ATF_REQUIRE(WIFEXITED(status));
	ATF_REQUIRE_EQ(WEXITSTATUS(status), 0);
	child->p_alive = 0;
	teardown();
}

ATF_TC_WITHOUT_HEAD(unexpected_message_restarts_child);
ATF_TC_BODY(unexpected_message_restarts_child, tc)
{
	pid_t	 old;

	setup();
	old = ping();
	ATF_REQUIRE(proc_compose(PROC_BROKER, PT_UNKNOWN, 0, -1, NULL,
	    0) == 0);
	ATF_REQUIRE_MSG(run_until(restarted, &old), "not restarted");
	ATF_REQUIRE_EQ(ping(), child->p_pid);
	teardown();
}

/*
 * The child writes a malformed header and then ignores its channel: the
 * parent must not wait for it to go away on its own.
 */
ATF_TC_WITHOUT_HEAD(malformed_message_kills_child);
ATF_TC_BODY(malformed_message_kills_child, tc)
{
	pid_t	 old;

	setup();
	old = ping();
	ATF_REQUIRE(proc_compose(PROC_BROKER, PT_GARBAGE, 0, -1, NULL,
	    0) == 0);
	ATF_REQUIRE_MSG(run_until(restarted, &old), "not restarted");
	ATF_REQUIRE(kill(old, 0) == -1 && errno == ESRCH);
	ATF_REQUIRE_EQ(ping(), child->p_pid);
	teardown();
}

/* Run the child by hand with argv and only the descriptors 0 to 2. */
static int
run_child(char *const argv[], int keep_channel)
{
	char	 path[PATH_MAX];
	pid_t	 pid;
	int	 status, fd;

	ATF_REQUIRE(snprintf(path, sizeof(path), "%s/%s", bindir,
	    PT_NAME) < (int)sizeof(path));
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, STDERR_FILENO);
		closefrom(PROC_PARENT_FD);
		if (keep_channel)
			open("/dev/null", O_RDWR);	/* lands on 3 */
		execv(path, argv);
		_exit(127);
	}
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(WIFEXITED(status));
	return (WEXITSTATUS(status));
}

ATF_TC_WITHOUT_HEAD(child_init_refuses_bad_starts);
ATF_TC_BODY(child_init_refuses_bad_starts, tc)
{
	char	*no_home[] = { PT_NAME, "-d", NULL };
	char	*bad_flag[] = { PT_NAME, "-x", "-H", "/", NULL };
	char	*no_channel[] = { PT_NAME, "-d", "-H", "/", NULL };

	find_bindir();
	ATF_REQUIRE_EQ(run_child(no_home, 1), 1);
	ATF_REQUIRE_EQ(run_child(bad_flag, 1), 1);
	ATF_REQUIRE_EQ(run_child(no_channel, 0), 1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, child_answers);
	ATF_TP_ADD_TC(tp, child_gets_options);
	ATF_TP_ADD_TC(tp, descriptor_to_child);
	ATF_TP_ADD_TC(tp, killed_child_restarts);
	ATF_TP_ADD_TC(tp, child_exits_when_channel_closes);
	ATF_TP_ADD_TC(tp, unexpected_message_restarts_child);
	ATF_TP_ADD_TC(tp, malformed_message_kills_child);
	ATF_TP_ADD_TC(tp, child_init_refuses_bad_starts);
	return (atf_no_error());
}
