/*
 * A child of the process framework, started by proc_test through
 * proc_start(): it runs the same start-up as the real children and
 * answers what the test asks over its channel.
 */

#include <sys/types.h>

#include <event.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "log.h"
#include "proc.h"
#include "proto.h"
#include "proc_child.h"

static void	child_garbage(void);
static int	child_dispatch(struct imsg *);

/*
 * Write a header too short to be one, then stop serving the channel:
 * only the parent killing this process ends it.
 */
static void
child_garbage(void)
{
	struct imsg_hdr	 hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = PT_PONG;
	hdr.len = 3;
	if (write(PROC_PARENT_FD, &hdr, sizeof(hdr)) != sizeof(hdr))
		fatal("write");
	for (;;)
		pause();
}

static int
child_dispatch(struct imsg *imsg)
{
	char	 buf[512];
	pid_t	 pid = getpid();
	int	 fd;

	switch (imsg_get_type(imsg)) {
	case PT_PING:
		break;
	case PT_ARGS:
		snprintf(buf, sizeof(buf), "d=%d v=%d S=%d H=%s",
		    proc_env.pe_debug, proc_env.pe_verbose,
		    proc_env.pe_seccomp_log, proc_env.pe_home);
		if (proc_parent_compose(PT_ARGS_REPLY, imsg_get_id(imsg), -1,
		    buf, strlen(buf) + 1) == -1)
			fatal("compose");
		return (0);
	case PT_WRITE_FD:
		if ((fd = imsg_get_fd(imsg)) == -1)
			fatalx("PT_WRITE_FD without a descriptor");
		if (write(fd, "child", 5) != 5)
			fatal("write");
		close(fd);
		break;
	case PT_GARBAGE:
		child_garbage();
		break;
	default:
		return (-1);
	}
	if (proc_parent_compose(PT_PONG, imsg_get_id(imsg), -1, &pid,
	    sizeof(pid)) == -1)
		fatal("compose");
	return (0);
}

int
main(int argc, char *argv[])
{
	proc_child_init(argc, argv, PT_NAME);
	event_init();
	proc_child_listen(child_dispatch);
	event_dispatch();
	return (0);
}
