/*
 * Fuzz castrad's control socket: the real castrad/control.c and the
 * code behind it, listening on a socket in a directory of its own and
 * driven by libevent as castrad drives it.  Each input is a stream of
 * bytes that a client writes on a new connection, in pieces, each
 * piece optionally carrying a descriptor; then the client hangs up,
 * and castrad must close the connection and every descriptor it got.
 *
 * Input: byte 0 says which of the first eight pieces carry a
 * descriptor (piece i if bit i is set), byte 1 is the size of the
 * pieces less one, and the rest is the stream, which a seed starts
 * with whole imsgs (fuzz/corpus/control).  A descriptor must come
 * with the first byte of the message that claims it, so a seed that
 * passes one cuts its stream where that message begins.
 *
 * The descriptor sent is /dev/null, never a directory: a project that
 * got as far as an up would bind a port taken from the input and stay
 * up across inputs, so castrad refuses each at its state root check,
 * after every message reader and every check of the sequence ran.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* castrad itself, its main() renamed: libFuzzer has the main here. */
int	castrad_main(int, char *[]);
#define main castrad_main
#include "../castrad/castrad.c"
#undef main

#include "fuzz.h"

#define FUZZ_LOOPS	1000	/* event loop turns until castrad closes */

static char	 fuzz_dir[PATH_MAX];
static char	 fuzz_sock[PATH_MAX];

/* The socket and its directory go when the fuzzer exits. */
static void
fuzz_cleanup(void)
{
	unlink(fuzz_sock);
	rmdir(fuzz_dir);
}

static void
fuzz_init(void)
{
	strlcpy(fuzz_dir, "/tmp/castra-fuzz-control.XXXXXX",
	    sizeof(fuzz_dir));
	if (mkdtemp(fuzz_dir) == NULL)
		err(1, "mkdtemp");
	snprintf(fuzz_sock, sizeof(fuzz_sock), "%s/castrad.sock", fuzz_dir);
	atexit(fuzz_cleanup);
	proc_env.pe_home = fuzz_dir;
	/* Quiet: every bad input would log a line. */
	log_init(0, LOG_DAEMON);
	log_setverbose(0);
	castrad_ids();
	event_init();
	signal(SIGPIPE, SIG_IGN);
	/* The children are never started: requests to them fail. */
	proc_init(procs, sizeof(procs) / sizeof(procs[0]));
	images_init();
	if (control_init(fuzz_sock, -1) == -1)
		errx(1, "%s: cannot listen", fuzz_sock);
}

static int
fuzz_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, fuzz_sock, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		abort();
	return (fd);
}

/* Read and drop what castrad says; 1 once it has closed. */
static int
fuzz_closed(int fd)
{
	char	 buf[4096];
	ssize_t	 n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	return (n == 0 || (n == -1 && errno != EAGAIN));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 ready;
	uint8_t		 fdmask;
	size_t		 off, piece, i;
	int		 fd, n;

	if (size < 2)
		return (0);
	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	fdmask = data[0];
	piece = 1 + data[1];
	data += 2;
	size -= 2;

	fuzz_fds_save();
	fd = fuzz_connect();
	event_loop(EVLOOP_NONBLOCK);
	for (off = 0, i = 0; off < size; off += piece, i++) {
		if (piece > size - off)
			piece = size - off;
		/* castrad may have closed already; that is its right. */
		(void)fuzz_send(fd, data + off, piece,
		    i < 8 && (fdmask & (1 << i)));
		event_loop(EVLOOP_NONBLOCK);
		(void)fuzz_closed(fd);
	}
	shutdown(fd, SHUT_WR);
	for (n = 0; n < FUZZ_LOOPS && !fuzz_closed(fd); n++)
		event_loop(EVLOOP_NONBLOCK);
	if (n == FUZZ_LOOPS)
		abort();	/* the client hung up; castrad must close */
	close(fd);
	fuzz_fds_check();	/* castrad kept no descriptor */
	return (0);
}
