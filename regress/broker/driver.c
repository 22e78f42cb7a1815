/*
 * Play castrad's part for castra-broker(8), for real: make a state
 * root, bind 127.0.0.1:0, start the broker with its channel on fd 3,
 * and hand it the project, the listener and VMs.
 *
 * usage: driver -b broker -d dir [-H hello_s] [-T heartbeat_s]
 *	      [-k token] [-n nofile] [-p port] [-q] [-s stateroot] [-v]
 *
 * The state root is dir/state unless -s names one; the port is any
 * free one unless -p names it.
 *
 * It prints "port <n>", then "handshake <vm> <ms>" for every handshake
 * event the broker sends (unless -q), and reads commands on stdin:
 *	vm <name> <token>	register a VM
 *	forget <name>		forget it
 *	project			send the project again (a new fd)
 *	stop			stop the project
 *	noop			nothing, but answered like the rest
 * End of input stops the broker and the driver.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "proto.h"

#define DRIVER_PROJECT	"test-0123456789abcdef"

static struct imsgbuf	 ibuf;
static struct broker_project bp;
static char		 statedir[1024];
static int		 quiet;

static void
driver_mkdirs(const char *dir, const char *root)
{
	static const char *const sub[] = { "", "handshakes", "logs",
	    "logs/bus" };
	struct passwd	*pw;
	char		 path[sizeof(statedir) + 32];
	size_t		 i;

	snprintf(path, sizeof(path), "%s/empty", dir);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		err(1, "%s", path);
	if (root != NULL)
		strlcpy(statedir, root, sizeof(statedir));
	else
		snprintf(statedir, sizeof(statedir), "%s/state", dir);
	pw = geteuid() == 0 ? getpwnam("_castra") : NULL;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", statedir, sub[i]);
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			err(1, "%s", path);
		/* As castrad does: the broker writes as _castra. */
		if (pw != NULL && chown(path, pw->pw_uid, pw->pw_gid) == -1)
			err(1, "chown %s", path);
	}
}

static int
driver_listen(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s, one = 1;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(*port);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 4096) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		err(1, "127.0.0.1:0");
	*port = ntohs(sin.sin_port);
	return (s);
}

static pid_t
driver_start(const char *broker, const char *dir, rlim_t nofile, int verbose,
    int *fd)
{
	struct rlimit	 rl;
	int		 sp[2];
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		err(1, "socketpair");
	switch (pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		if (nofile > 0) {
			rl.rlim_cur = rl.rlim_max = nofile;
			if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
				err(1, "setrlimit");
		}
		if (dup2(sp[1], PROC_PARENT_FD) == -1)
			_exit(1);
		execl(broker, "castra-broker", "-d", verbose ? "-v" : "-d",
		    "-H", dir, (char *)NULL);
		err(1, "%s", broker);
	}
	close(sp[1]);
	*fd = sp[0];
	return (pid);
}

static void
driver_send(uint32_t type, int fd, const void *data, size_t len)
{
	if (imsg_compose(&ibuf, type, 0, 0, fd, data, len) == -1 ||
	    imsgbuf_flush(&ibuf) == -1)
		err(1, "imsg to the broker");
}

static void
driver_project(void)
{
	int	 fd;

	if ((fd = open(statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(1, "%s", statedir);
	driver_send(IMSG_BROKER_PROJECT, fd, &bp, sizeof(bp));
}

static void
driver_vm(const char *name, const char *token)
{
	struct broker_vm	 bv;

	memset(&bv, 0, sizeof(bv));
	strlcpy(bv.bv_project, DRIVER_PROJECT, sizeof(bv.bv_project));
	strlcpy(bv.bv_name, name, sizeof(bv.bv_name));
	strlcpy(bv.bv_token, token, sizeof(bv.bv_token));
	driver_send(IMSG_BROKER_VM, -1, &bv, sizeof(bv));
}

/* One command line from stdin; 0 at the end of input. */
static int
driver_command(void)
{
	char	 line[256], name[128], token[128];

	if (fgets(line, sizeof(line), stdin) == NULL)
		return (0);
	if (sscanf(line, "vm %127s %127s", name, token) == 2)
		driver_vm(name, token);
	else if (sscanf(line, "forget %127s", name) == 1)
		driver_vm(name, "");
	else if (strcmp(line, "project\n") == 0)
		driver_project();
	else if (strcmp(line, "noop\n") == 0)
		;
	else if (strcmp(line, "stop\n") == 0)
		driver_send(IMSG_BROKER_STOP, -1, &bp, sizeof(bp));
	else
		warnx("unknown command: %s", line);
	printf("done\n");
	fflush(stdout);
	return (1);
}

/* Messages from the broker; 0 once it has gone. */
static int
driver_events(void)
{
	struct broker_vm	 bv;
	struct imsg		 imsg;
	int			 n;

	if ((n = imsgbuf_read(&ibuf)) == -1 && errno != EAGAIN)
		err(1, "imsg from the broker");
	if (n == 0)
		return (0);
	while ((n = imsgbuf_get(&ibuf, &imsg)) > 0) {
		/* The broker confirms a stop; nothing to show. */
		if (imsg_get_type(&imsg) == IMSG_BROKER_STOP_RESPONSE) {
			imsg_free(&imsg);
			continue;
		}
		if (imsg_get_type(&imsg) != IMSG_BROKER_HANDSHAKE_EVENT ||
		    imsg_get_data(&imsg, &bv, sizeof(bv)) == -1)
			errx(1, "unexpected message %u", imsg_get_type(&imsg));
		bv.bv_name[sizeof(bv.bv_name) - 1] = '\0';
		if (!quiet) {
			printf("handshake %s %lld\n", bv.bv_name,
			    (long long)bv.bv_timestamp);
			fflush(stdout);
		}
		imsg_free(&imsg);
	}
	if (n == -1)
		err(1, "imsg from the broker");
	return (1);
}

int
main(int argc, char *argv[])
{
	struct pollfd	 pfd[2];
	const char	*broker = NULL, *dir = NULL, *root = NULL, *errstr;
	rlim_t		 nofile = 0;
	uint16_t	 port = 0;
	pid_t		 pid;
	int		 ch, fd, lfd, status, verbose = 0;

	memset(&bp, 0, sizeof(bp));
	strlcpy(bp.bp_id, DRIVER_PROJECT, sizeof(bp.bp_id));
	while ((ch = getopt(argc, argv, "b:d:H:k:n:p:qs:T:v")) != -1) {
		switch (ch) {
		case 'b':
			broker = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'H':
			bp.bp_hello_timeout = strtonum(optarg, 1, 3600,
			    &errstr);
			if (errstr != NULL)
				errx(1, "-H %s: %s", optarg, errstr);
			break;
		case 'k':
			strlcpy(bp.bp_token, optarg, sizeof(bp.bp_token));
			break;
		case 'n':
			nofile = strtonum(optarg, 16, 1 << 20, &errstr);
			if (errstr != NULL)
				errx(1, "-n %s: %s", optarg, errstr);
			break;
		case 'p':
			port = strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(1, "-p %s: %s", optarg, errstr);
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			root = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'T':
			bp.bp_heartbeat_timeout = strtonum(optarg, 1, 3600,
			    &errstr);
			if (errstr != NULL)
				errx(1, "-T %s: %s", optarg, errstr);
			break;
		default:
			goto usage;
		}
	}
	if (broker == NULL || dir == NULL)
		goto usage;
	signal(SIGPIPE, SIG_IGN);

	driver_mkdirs(dir, root);
	lfd = driver_listen(&port);
	bp.bp_port = port;
	pid = driver_start(broker, dir, nofile, verbose, &fd);
	if (imsgbuf_init(&ibuf, fd) == -1)
		err(1, "imsgbuf_init");
	imsgbuf_allow_fdpass(&ibuf);
	driver_project();
	driver_send(IMSG_BROKER_LISTEN, lfd, &bp, sizeof(bp));
	printf("port %u\n", port);
	fflush(stdout);

	pfd[0].fd = STDIN_FILENO;
	pfd[0].events = POLLIN;
	pfd[1].fd = fd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (pfd[1].revents != 0 && !driver_events()) {
			printf("broker exited\n");
			break;
		}
		if (pfd[0].revents != 0 && !driver_command())
			break;
	}
	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	if (WIFSIGNALED(status))
		errx(1, "broker killed by signal %d", WTERMSIG(status));
	return (WEXITSTATUS(status));

 usage:
	fprintf(stderr, "usage: driver -b broker -d dir [-H hello_s] "
	    "[-T heartbeat_s] [-k token] [-n nofile] [-p port] "
	    "[-q] [-s stateroot] [-v]\n");
	return (1);
}
