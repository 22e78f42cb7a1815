/*
 * A hostile client of castrad's control socket, for control_test.sh.
 * Each attack connects, misbehaves in one way and prints what castrad
 * did about it on one line:
 *
 *	closed			castrad closed the connection
 *	result <n> <message>	castrad answered with a result
 *	open			neither, within the deadline
 *	refused <errno text>	connect(2) failed
 *
 * usage: ctlclient socket attack [argument]
 *
 * Attacks that need a state root open the directory given as the
 * argument (default ".") and send it the way castra does; the project
 * they describe has the broker port $CTLCLIENT_PORT (default 1) and the
 * id $CTLCLIENT_ID (default hostile-0123abcd).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "proto.h"
#include "../rawimsg.h"

#define CC_DEADLINE_MS	5000
#define CC_PROJECT_ID	"hostile-0123abcd"
#define CC_TOKEN	"0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef"

struct attack {
	const char	*a_name;
	void		(*a_run)(int, const char *);
};

static int	cc_connect(const char *);
static void	cc_outcome(int);
static void	cc_first_event(int);
static void	cc_raw(int, uint32_t, uint32_t, const void *, size_t, int);
static void	cc_send(int, uint32_t, const void *, size_t, int);
static void	cc_hello(int, uint32_t);
static void	cc_project(int, const char *, uint32_t, uint32_t, int);

static int
cc_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "%s: path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return (-1);
	return (fd);
}

/*
 * Read castrad's answer until it closes, sends a result or the
 * deadline passes, and print which.
 */
static void
cc_outcome(int fd)
{
	struct imsgbuf		 ib;
	struct imsg		 imsg;
	struct ctl_result	 cr;
	struct pollfd		 pfd;
	int			 n;

	if (imsgbuf_init(&ib, fd) == -1)
		err(1, "imsgbuf_init");
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, CC_DEADLINE_MS)) == -1)
			err(1, "poll");
		if (n == 0) {
			printf("open\n");
			break;
		}
		if ((n = imsgbuf_read(&ib)) == 0 ||
		    (n == -1 && errno == ECONNRESET)) {
			printf("closed\n");
			break;
		}
		if (n == -1)
			err(1, "read from castrad");
		while ((n = imsgbuf_get(&ib, &imsg)) == 1) {
			if (imsg_get_type(&imsg) == IMSG_CTL_RESULT) {
				if (proto_read_result(&imsg, &cr) == -1)
					errx(1, "castrad sent a bad result");
				printf("result %d %s\n", cr.cr_status,
				    cr.cr_message);
				imsg_free(&imsg);
				imsgbuf_clear(&ib);
				return;
			}
			imsg_free(&imsg);
		}
	}
	imsgbuf_clear(&ib);
}

/*
 * Wait for castrad's first event of an up, so that it is under way,
 * and leave without reading the rest.
 */
static void
cc_first_event(int fd)
{
	struct imsgbuf	 ib;
	struct imsg	 imsg;
	struct pollfd	 pfd;
	uint32_t	 type = IMSG_NONE;
	int		 n;

	if (imsgbuf_init(&ib, fd) == -1)
		err(1, "imsgbuf_init");
	while (type != IMSG_CTL_EVENT && type != IMSG_CTL_RESULT) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, CC_DEADLINE_MS)) == -1)
			err(1, "poll");
		if (n == 0 || (n = imsgbuf_read(&ib)) == 0)
			errx(1, "castrad sent no event");
		if (n == -1)
			err(1, "read from castrad");
		while (type != IMSG_CTL_EVENT && type != IMSG_CTL_RESULT &&
		    imsgbuf_get(&ib, &imsg) == 1) {
			type = imsg_get_type(&imsg);
			imsg_free(&imsg);
		}
	}
	imsgbuf_clear(&ib);
	printf("%s\n", type == IMSG_CTL_EVENT ? "gone" : "answered");
}

/*
 * One message of raw bytes; len is the header's, whatever follows.
 * castrad may close before an attack has sent all of it: cc_outcome
 * then reports the close.
 */
static void
cc_raw(int fd, uint32_t type, uint32_t len, const void *data, size_t n,
    int passfd)
{
	if (rawimsg_send(fd, type, len, data, n, passfd) == -1 &&
	    errno != EPIPE && errno != ECONNRESET)
		err(1, "sendmsg");
}

/* A well-formed message, with a descriptor if passfd is not -1. */
static void
cc_send(int fd, uint32_t type, const void *data, size_t len, int passfd)
{
	uint32_t	 hlen = IMSG_HEADER_SIZE + len;

	cc_raw(fd, type, passfd == -1 ? hlen : (hlen | RAWIMSG_FD_MARK), data,
	    len, passfd);
}

static void
cc_hello(int fd, uint32_t version)
{
	struct ctl_hello	 ch;

	memset(&ch, 0, sizeof(ch));
	ch.ch_version = version;
	strlcpy(ch.ch_software, "ctlclient", sizeof(ch.ch_software));
	cc_send(fd, IMSG_CTL_HELLO, &ch, sizeof(ch), -1);
}

/* The project's id: another user's, to squat it, or ours. */
static const char *
cc_id(void)
{
	const char	*env;

	if ((env = getenv("CTLCLIENT_ID")) != NULL && *env != '\0')
		return (env);
	return (CC_PROJECT_ID);
}

static void
cc_project(int fd, const char *root, uint32_t nimages, uint32_t nvms,
    int withfd)
{
	struct ctl_project	 cp;
	const char		*env;
	uint16_t		 port = 1;
	int			 rootfd = -1;

	/* The broker port of an up that gets that far; 1 otherwise. */
	if ((env = getenv("CTLCLIENT_PORT")) != NULL)
		port = strtonum(env, 1, 65535, NULL);

	memset(&cp, 0, sizeof(cp));
	strlcpy(cp.cp_id, cc_id(), sizeof(cp.cp_id));
	strlcpy(cp.cp_name, "hostile", sizeof(cp.cp_name));
	strlcpy(cp.cp_config, "/nonexistent/castra.conf",
	    sizeof(cp.cp_config));
	strlcpy(cp.cp_token, CC_TOKEN, sizeof(cp.cp_token));
	cp.cp_broker_port = port;
	cp.cp_nimages = nimages;
	cp.cp_nvms = nvms;
	if (withfd && (rootfd = open(root, O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "%s", root);
	cc_send(fd, IMSG_CTL_PROJECT, &cp, sizeof(cp), rootfd);
	if (rootfd != -1)
		close(rootfd);
}

static void
cc_vm(int fd)
{
	struct ctl_vm	 cv;

	memset(&cv, 0, sizeof(cv));
	strlcpy(cv.cv_name, "vm1", sizeof(cv.cv_name));
	strlcpy(cv.cv_image, "img", sizeof(cv.cv_image));
	cv.cv_cpus = 1;
	cv.cv_memory_mib = 64;
	cc_send(fd, IMSG_CTL_VM, &cv, sizeof(cv), -1);
}

/*
 * Disk image "img" of digest sha256 at port 1 on loopback, where
 * nothing answers: a fetch of it fails, later.
 */
static void
cc_unreachable_image(struct ctl_image *ci, const char *sha256)
{
	memset(ci, 0, sizeof(*ci));
	strlcpy(ci->ci_name, "img", sizeof(ci->ci_name));
	ci->ci_role = CTL_IMAGE_DISK;
	strlcpy(ci->ci_artifact.ca_urls[0], "http://127.0.0.1:1/disk.qcow2",
	    sizeof(ci->ci_artifact.ca_urls[0]));
	ci->ci_artifact.ca_nurls = 1;
	strlcpy(ci->ci_artifact.ca_sha256, sha256,
	    sizeof(ci->ci_artifact.ca_sha256));
}

static void
cc_request(int fd, uint32_t type, const char *id, uint32_t flags)
{
	struct ctl_request	 rq;

	memset(&rq, 0, sizeof(rq));
	strlcpy(rq.cr_project, id, sizeof(rq.cr_project));
	rq.cr_flags = flags;
	cc_send(fd, type, &rq, sizeof(rq), -1);
}

static void
attack_garbage(int fd, const char *arg)
{
	unsigned char	 buf[4096];

	arc4random_buf(buf, sizeof(buf));
	if (write(fd, buf, sizeof(buf)) == -1)
		err(1, "write");
}

static void
attack_early(int fd, const char *arg)
{
	cc_project(fd, arg, 0, 0, 1);
}

static void
attack_hello_size(int fd, const char *arg)
{
	struct ctl_hello	 ch;

	memset(&ch, 0, sizeof(ch));
	ch.ch_version = CASTRA_PROTO_VERSION;
	cc_send(fd, IMSG_CTL_HELLO, &ch, sizeof(ch) - 4, -1);
}

static void
attack_hello_version(int fd, const char *arg)
{
	cc_hello(fd, CASTRA_PROTO_VERSION + 98);
}

static void
attack_oversized(int fd, const char *arg)
{
	char	 buf[64];

	memset(buf, 0, sizeof(buf));
	cc_raw(fd, IMSG_CTL_HELLO, 0x7fffffff, buf, sizeof(buf), -1);
}

static void
attack_over_max(int fd, const char *arg)
{
	static char	 buf[MAX_IMSGSIZE + 1];

	cc_raw(fd, IMSG_CTL_HELLO, sizeof(buf), buf, sizeof(buf), -1);
}

static void
attack_short_header(int fd, const char *arg)
{
	cc_raw(fd, IMSG_CTL_HELLO, IMSG_HEADER_SIZE - 1, NULL, 0, -1);
}

/* Half a message, then the end of the stream. */
static void
attack_truncated(int fd, const char *arg)
{
	struct ctl_hello	 ch;

	memset(&ch, 0, sizeof(ch));
	cc_raw(fd, IMSG_CTL_HELLO, IMSG_HEADER_SIZE + sizeof(ch), &ch,
	    sizeof(ch) / 2, -1);
	shutdown(fd, SHUT_WR);
}

/* A descriptor on a message that takes none is closed, not kept. */
static void
attack_fd_hello(int fd, const char *arg)
{
	struct ctl_hello	 ch;
	int			 nfd;

	if ((nfd = open("/dev/null", O_RDONLY)) == -1)
		err(1, "/dev/null");
	memset(&ch, 0, sizeof(ch));
	ch.ch_version = CASTRA_PROTO_VERSION;
	cc_send(fd, IMSG_CTL_HELLO, &ch, sizeof(ch), nfd);
	close(nfd);
	/* Still a usable connection: a request it cannot do is refused. */
	cc_request(fd, IMSG_CTL_UP_REQUEST, cc_id(), 0);
}

/* A descriptor that no header claims breaks the framing. */
static void
attack_fd_unclaimed(int fd, const char *arg)
{
	struct ctl_hello	 ch;
	int			 nfd;

	if ((nfd = open("/dev/null", O_RDONLY)) == -1)
		err(1, "/dev/null");
	memset(&ch, 0, sizeof(ch));
	ch.ch_version = CASTRA_PROTO_VERSION;
	cc_raw(fd, IMSG_CTL_HELLO, IMSG_HEADER_SIZE + sizeof(ch), &ch,
	    sizeof(ch), nfd);
	close(nfd);
}

static void
attack_fd_vm(int fd, const char *arg)
{
	struct ctl_vm	 cv;
	int		 nfd;

	cc_hello(fd, CASTRA_PROTO_VERSION);
	cc_project(fd, arg, 0, 1, 1);
	if ((nfd = open("/dev/null", O_RDONLY)) == -1)
		err(1, "/dev/null");
	memset(&cv, 0, sizeof(cv));
	strlcpy(cv.cv_name, "vm1", sizeof(cv.cv_name));
	strlcpy(cv.cv_image, "img", sizeof(cv.cv_image));
	cv.cv_cpus = 1;
	cv.cv_memory_mib = 64;
	cc_send(fd, IMSG_CTL_VM, &cv, sizeof(cv), nfd);
	close(nfd);
	/* Announced zero images: castrad must not take this request. */
	cc_request(fd, IMSG_CTL_DOWN_REQUEST, "other-project", 0);
}

static void
attack_project_nofd(int fd, const char *arg)
{
	cc_hello(fd, CASTRA_PROTO_VERSION);
	cc_project(fd, arg, 0, 0, 0);
}

static void
attack_extra_vm(int fd, const char *arg)
{
	cc_hello(fd, CASTRA_PROTO_VERSION);
	cc_project(fd, arg, 0, 1, 1);
	cc_vm(fd);
	cc_vm(fd);
}

static void
attack_extra_image(int fd, const char *arg)
{
	struct ctl_image	 ci;

	cc_hello(fd, CASTRA_PROTO_VERSION);
	cc_project(fd, arg, 0, 0, 1);
	memset(&ci, 0, sizeof(ci));
	strlcpy(ci.ci_name, "img", sizeof(ci.ci_name));
	cc_send(fd, IMSG_CTL_IMAGE, &ci, sizeof(ci), -1);
}

static void
attack_wrong_id(int fd, const char *arg)
{
	cc_hello(fd, CASTRA_PROTO_VERSION);
	cc_project(fd, arg, 0, 0, 1);
	cc_request(fd, IMSG_CTL_UP_REQUEST, "another-project",
	    CTL_UP_BROKER_ONLY);
}

static void
attack_unknown_type(int fd, const char *arg)
{
	struct broker_vm	 bv;

	cc_hello(fd, CASTRA_PROTO_VERSION);
	memset(&bv, 0, sizeof(bv));
	cc_send(fd, IMSG_BROKER_VM, &bv, sizeof(bv), -1);
}

/*
 * A pull whose digest is in capitals, which castra never sends since it
 * lowercases the project file's.  castrad must refuse it at the door:
 * castra-imgd names images by the lower-case digest, refuses any other
 * as a broken castrad's and exits, and castrad would restart it with
 * the same request for ever.
 */
static void
attack_pull_upper(int fd, const char *arg)
{
	struct ctl_image	 ci;

	cc_hello(fd, CASTRA_PROTO_VERSION);
	cc_unreachable_image(&ci, "E3B0C44298FC1C149AFBF4C8996FB924"
	    "27AE41E4649B934CA495991B7852B855");
	cc_send(fd, IMSG_CTL_IMAGE_PULL, &ci, sizeof(ci), -1);
}

/* A proper up request for a state root that is not the client's. */
static void
attack_foreign_root(int fd, const char *arg)
{
	cc_hello(fd, CASTRA_PROTO_VERSION);
	cc_project(fd, arg, 0, 0, 1);
	cc_request(fd, IMSG_CTL_UP_REQUEST, cc_id(), CTL_UP_BROKER_ONLY);
}

/* An up whose client is gone before castrad can answer. */
static void
attack_vanish(int fd, const char *arg)
{
	struct ctl_image	 ci;
	struct ctl_vm		 cv;

	cc_hello(fd, CASTRA_PROTO_VERSION);
	cc_project(fd, arg, 1, 1, 1);
	cc_unreachable_image(&ci, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	cc_send(fd, IMSG_CTL_IMAGE, &ci, sizeof(ci), -1);
	memset(&cv, 0, sizeof(cv));
	strlcpy(cv.cv_name, "vm1", sizeof(cv.cv_name));
	strlcpy(cv.cv_image, "img", sizeof(cv.cv_image));
	cv.cv_cpus = 1;
	cv.cv_memory_mib = 64;
	cc_send(fd, IMSG_CTL_VM, &cv, sizeof(cv), -1);
	cc_request(fd, IMSG_CTL_UP_REQUEST, cc_id(), CTL_UP_WAIT);
	/* main waits for the first event and closes: castrad is at work. */
}

static const struct attack attacks[] = {
	{ "garbage",		attack_garbage },
	{ "early",		attack_early },
	{ "hello-size",		attack_hello_size },
	{ "hello-version",	attack_hello_version },
	{ "oversized",		attack_oversized },
	{ "over-max",		attack_over_max },
	{ "short-header",	attack_short_header },
	{ "truncated",		attack_truncated },
	{ "fd-hello",		attack_fd_hello },
	{ "fd-unclaimed",	attack_fd_unclaimed },
	{ "fd-vm",		attack_fd_vm },
	{ "project-nofd",	attack_project_nofd },
	{ "extra-vm",		attack_extra_vm },
	{ "extra-image",	attack_extra_image },
	{ "wrong-id",		attack_wrong_id },
	{ "unknown-type",	attack_unknown_type },
	{ "pull-upper",		attack_pull_upper },
	{ "foreign-root",	attack_foreign_root },
	{ "vanish",		attack_vanish },
};

/*
 * Hold n connections that say nothing until a signal ends the
 * program; print how many connect(2) took once they are all open.
 */
__attribute__((__noreturn__)) static void
cc_idle(const char *path, int n)
{
	int	 i, ok = 0;

	for (i = 0; i < n; i++)
		if (cc_connect(path) != -1)
			ok++;
	printf("%d connected\n", ok);
	fflush(stdout);
	for (;;)
		pause();
}

int
main(int argc, char *argv[])
{
	const struct attack	*a;
	const char		*arg;
	size_t			 i;
	int			 fd;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: ctlclient socket attack [arg]\n");
		return (2);
	}
	arg = argc == 4 ? argv[3] : ".";
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[2], "idle") == 0)
		cc_idle(argv[1], (int)strtonum(arg, 1, 1000, NULL));
	for (i = 0, a = NULL; i < sizeof(attacks) / sizeof(attacks[0]); i++)
		if (strcmp(attacks[i].a_name, argv[2]) == 0)
			a = &attacks[i];
	if (a == NULL) {
		fprintf(stderr, "ctlclient: %s: no such attack\n", argv[2]);
		return (2);
	}
	if ((fd = cc_connect(argv[1])) == -1) {
		printf("refused %s\n", strerror(errno));
		return (0);
	}
	a->a_run(fd, arg);
	if (strcmp(argv[2], "vanish") == 0)
		cc_first_event(fd);
	else
		cc_outcome(fd);
	close(fd);
	return (0);
}
