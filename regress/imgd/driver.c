/*
 * Drive castra-imgd as castrad would: exec it with a socketpair on
 * PROC_PARENT_FD and send it requests.  Commands come on stdin, one a
 * line; answers go to stdout, one a line:
 *
 *	fetch id sha256|- sha512|- size url ...	ready id sha256 fetched size
 *	import id path [sha256|-]		fail id message
 *	hold sha256, release sha256		progress id done total url
 *	rm id sha256, prune id age size		removed id count bytes held msg
 *	wait					(all answers are in)
 *	raw type bytes				(a message of that size)
 *
 * Requests are queued and sent together at the next wait (or the end
 * of input), so that imgd reads them at once.  The end of input waits
 * for every answer, then closes the channel.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "proto.h"

static struct imsgbuf	 ibuf;
static int		 outstanding;
static int		 show_progress;

static void
usage(void)
{
	fprintf(stderr, "usage: driver [-pS] [-b backoff_ms] [-c connect] "
	    "[-r retries] [-s stall] -H home imgd\n");
	exit(2);
}

static void
send_msg(uint32_t type, int fd, const void *data, size_t len)
{
	if (imsg_compose(&ibuf, type, 0, 0, fd, data, len) == -1)
		err(1, "imsg to imgd");
}

static void
handle(struct imsg *imsg)
{
	struct img_ready	 ir;
	struct img_fail		 fl;
	struct img_progress	 ip;
	struct img_removed	 rd;

	switch (imsg_get_type(imsg)) {
	case IMSG_IMG_READY_RESPONSE:
		if (imsg_get_data(imsg, &ir, sizeof(ir)) == -1)
			errx(1, "bad ready");
		ir.ir_sha256[SHA256_HEX_LEN] = '\0';
		printf("ready %u %s %u %llu\n", ir.ir_id, ir.ir_sha256,
		    ir.ir_fetched, (unsigned long long)ir.ir_size);
		outstanding--;
		break;
	case IMSG_IMG_FAIL_RESPONSE:
		if (imsg_get_data(imsg, &fl, sizeof(fl)) == -1)
			errx(1, "bad fail");
		fl.if_message[sizeof(fl.if_message) - 1] = '\0';
		printf("fail %u %s\n", fl.if_id, fl.if_message);
		outstanding--;
		break;
	case IMSG_IMG_PROGRESS_EVENT:
		if (imsg_get_data(imsg, &ip, sizeof(ip)) == -1)
			errx(1, "bad progress");
		ip.ip_url[sizeof(ip.ip_url) - 1] = '\0';
		if (show_progress)
			printf("progress %u %llu %llu %s\n", ip.ip_id,
			    (unsigned long long)ip.ip_done,
			    (unsigned long long)ip.ip_total, ip.ip_url);
		break;
	case IMSG_IMG_REMOVE_RESPONSE:
		if (imsg_get_data(imsg, &rd, sizeof(rd)) == -1)
			errx(1, "bad removed");
		rd.id_message[sizeof(rd.id_message) - 1] = '\0';
		printf("removed %u %u %llu %u %s\n", rd.id_id, rd.id_count,
		    (unsigned long long)rd.id_bytes, rd.id_held,
		    rd.id_message);
		outstanding--;
		break;
	default:
		errx(1, "unexpected message %u", imsg_get_type(imsg));
	}
	fflush(stdout);
}

static void
wait_all(void)
{
	struct imsg	 imsg;
	ssize_t		 n;

	if (imsgbuf_flush(&ibuf) == -1)
		err(1, "imsg to imgd");
	while (outstanding > 0) {
		while ((n = imsgbuf_get(&ibuf, &imsg)) == 1) {
			handle(&imsg);
			imsg_free(&imsg);
		}
		if (n == -1)
			err(1, "imsgbuf_get");
		if (outstanding == 0)
			break;
		if ((n = imsgbuf_read(&ibuf)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err(1, "imsgbuf_read");
		}
		if (n == 0)
			errx(1, "imgd closed the channel");
	}
}

static void
cmd_fetch(char **av, int ac)
{
	struct img_request	 ir;
	int			 i;

	if (ac < 5)
		errx(2, "fetch id sha256 sha512 size [url ...]");
	memset(&ir, 0, sizeof(ir));
	ir.ir_id = strtoul(av[1], NULL, 10);
	if (strcmp(av[2], "-") != 0)
		strlcpy(ir.ir_artifact.ca_sha256, av[2],
		    sizeof(ir.ir_artifact.ca_sha256));
	if (strcmp(av[3], "-") != 0)
		strlcpy(ir.ir_artifact.ca_sha512, av[3],
		    sizeof(ir.ir_artifact.ca_sha512));
	ir.ir_artifact.ca_size = strtoull(av[4], NULL, 10);
	for (i = 5; i < ac && i - 5 < CONFIG_URLS_MAX; i++)
		strlcpy(ir.ir_artifact.ca_urls[ir.ir_artifact.ca_nurls++],
		    av[i], sizeof(ir.ir_artifact.ca_urls[0]));
	send_msg(IMSG_IMG_FETCH_REQUEST, -1, &ir, sizeof(ir));
	outstanding++;
}

static void
cmd_import(char **av, int ac)
{
	struct img_request	 ir;
	int			 fd;

	if (ac < 3)
		errx(2, "import id path [sha256]");
	memset(&ir, 0, sizeof(ir));
	ir.ir_id = strtoul(av[1], NULL, 10);
	if (ac > 3 && strcmp(av[3], "-") != 0)
		strlcpy(ir.ir_artifact.ca_sha256, av[3],
		    sizeof(ir.ir_artifact.ca_sha256));
	if ((fd = open(av[2], O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", av[2]);
	/* imsg closes fd once it is sent. */
	send_msg(IMSG_IMG_FETCH_REQUEST, fd, &ir, sizeof(ir));
	outstanding++;
}

static void
cmd_remove(char **av, int ac, int prune)
{
	struct img_remove	 im;

	if (ac < (prune ? 4 : 3))
		errx(2, "rm id sha256 | prune id age size");
	memset(&im, 0, sizeof(im));
	im.im_id = strtoul(av[1], NULL, 10);
	if (prune) {
		im.im_age = strtoull(av[2], NULL, 10);
		im.im_size = strtoull(av[3], NULL, 10);
	} else
		strlcpy(im.im_sha256, av[2], sizeof(im.im_sha256));
	send_msg(IMSG_IMG_REMOVE_REQUEST, -1, &im, sizeof(im));
	outstanding++;
}

static void
cmd_hold(char **av, int ac, uint32_t type)
{
	struct img_hold	 ih;

	if (ac < 2)
		errx(2, "hold|release sha256");
	memset(&ih, 0, sizeof(ih));
	strlcpy(ih.ih_sha256, av[1], sizeof(ih.ih_sha256));
	send_msg(type, -1, &ih, sizeof(ih));
}

/* A message of any type and size, zeros: for hostile tests. */
static void
cmd_raw(char **av, int ac)
{
	static char	 zeros[65536];
	size_t		 len;

	if (ac < 3 || (len = strtoul(av[2], NULL, 10)) > sizeof(zeros))
		errx(2, "raw type bytes");
	send_msg(strtoul(av[1], NULL, 10), -1, zeros, len);
	outstanding++;
}

static void
command(char *line)
{
	char	*av[16], *p;
	int	 ac = 0;

	while ((p = strsep(&line, " \t\n")) != NULL && ac < 15)
		if (*p != '\0')
			av[ac++] = p;
	av[ac] = NULL;
	if (ac == 0)
		return;
	if (strcmp(av[0], "fetch") == 0)
		cmd_fetch(av, ac);
	else if (strcmp(av[0], "import") == 0)
		cmd_import(av, ac);
	else if (strcmp(av[0], "rm") == 0)
		cmd_remove(av, ac, 0);
	else if (strcmp(av[0], "prune") == 0)
		cmd_remove(av, ac, 1);
	else if (strcmp(av[0], "hold") == 0)
		cmd_hold(av, ac, IMSG_IMG_HOLD);
	else if (strcmp(av[0], "release") == 0)
		cmd_hold(av, ac, IMSG_IMG_RELEASE);
	else if (strcmp(av[0], "raw") == 0)
		cmd_raw(av, ac);
	else if (strcmp(av[0], "wait") == 0)
		wait_all();
	else
		errx(2, "unknown command %s", av[0]);
}

/* What castrad does: the images directory, root's when run as root. */
static void
make_images(const char *home)
{
	char		 path[1024];

	snprintf(path, sizeof(path), "%s/images", home);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		err(1, "%s", path);
}

int
main(int argc, char *argv[])
{
	struct img_config	 ic;
	const char		*home = NULL, *seccomp_log = "-v";
	char			 line[4096];
	int			 ch, sp[2], status;
	pid_t			 pid;

	memset(&ic, 0, sizeof(ic));
	while ((ch = getopt(argc, argv, "b:c:H:pr:Ss:")) != -1) {
		switch (ch) {
		case 'b':
			ic.ic_backoff_ms = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			ic.ic_connect_timeout = strtoul(optarg, NULL, 10);
			break;
		case 'H':
			home = optarg;
			break;
		case 'p':
			show_progress = 1;
			break;
		case 'r':
			ic.ic_retries = strtoul(optarg, NULL, 10);
			break;
		case 's':
			ic.ic_stall_timeout = strtoul(optarg, NULL, 10);
			break;
		case 'S':
			seccomp_log = "-S";
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (home == NULL || argc != 1)
		usage();
	make_images(home);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		err(1, "socketpair");
	switch (pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		if (dup2(sp[1], PROC_PARENT_FD) == -1)
			_exit(1);
		execl(argv[0], "castra-imgd", "-d", "-v", seccomp_log, "-H",
		    home, (char *)NULL);
		warn("%s", argv[0]);
		_exit(1);
	}
	close(sp[1]);
	if (imsgbuf_init(&ibuf, sp[0]) == -1)
		err(1, "imsgbuf_init");
	imsgbuf_allow_fdpass(&ibuf);
	send_msg(IMSG_IMG_CONFIG, -1, &ic, sizeof(ic));

	while (fgets(line, sizeof(line), stdin) != NULL)
		command(line);
	wait_all();
	imsgbuf_clear(&ibuf);
	close(sp[0]);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errx(1, "castra-imgd ended with status %d", status);
	return (0);
}
