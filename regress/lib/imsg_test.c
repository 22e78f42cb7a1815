/*
 * imsg and ibuf against a real socketpair: round trips, small socket
 * buffers, descriptor passing, and hostile bytes written raw onto the
 * socket, which must be refused without a crash or a leaked descriptor.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "../rawimsg.h"

#define POLL_MS		5000	/* a test that waits longer has failed */

struct chan {
	int		 c_sp[2];
	struct imsgbuf	 c_w;		/* writes on c_sp[0] */
	struct imsgbuf	 c_r;		/* reads on c_sp[1] */
};

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ATF_REQUIRE((d = opendir("/proc/self/fd")) != NULL);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

static void
set_nonblock(int fd)
{
	ATF_REQUIRE(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
}

static void
chan_init(struct chan *c, int fdpass)
{
	set_nonblock(c->c_sp[0]);
	set_nonblock(c->c_sp[1]);
	ATF_REQUIRE(imsgbuf_init(&c->c_w, c->c_sp[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&c->c_r, c->c_sp[1]) == 0);
	if (fdpass) {
		imsgbuf_allow_fdpass(&c->c_w);
		imsgbuf_allow_fdpass(&c->c_r);
	}
}

static void
chan_open(struct chan *c, int fdpass)
{
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, c->c_sp) == 0);
	chan_init(c, fdpass);
}

static void
chan_close(struct chan *c)
{
	imsgbuf_clear(&c->c_w);
	imsgbuf_clear(&c->c_r);
	if (c->c_sp[0] != -1)
		close(c->c_sp[0]);
	close(c->c_sp[1]);
}

/* Wait until fd is ready for events, or fail the test. */
static void
wait_fd(int fd, short events)
{
	struct pollfd	 pfd;

	pfd.fd = fd;
	pfd.events = events;
	ATF_REQUIRE_MSG(poll(&pfd, 1, POLL_MS) == 1, "poll timed out");
}

/* Read until a message is there, or fail the test. */
static void
read_one(struct imsgbuf *ib, struct imsg *imsg)
{
	int	 n;

	while ((n = imsgbuf_get(ib, imsg)) == 0) {
		wait_fd(ib->fd, POLLIN);
		n = imsgbuf_read(ib);
		ATF_REQUIRE_MSG(n == 1 || (n == -1 && errno == EAGAIN),
		    "imsgbuf_read: %d, %s", n, strerror(errno));
	}
	ATF_REQUIRE_EQ(n, 1);
}

/* Read until the read fails, and return its errno. */
static int
read_error(struct imsgbuf *ib)
{
	struct imsg	 imsg;
	int		 n;

	for (;;) {
		while (imsgbuf_get(ib, &imsg) == 1)
			imsg_free(&imsg);
		wait_fd(ib->fd, POLLIN);
		if ((n = imsgbuf_read(ib)) == -1 && errno != EAGAIN)
			return (errno);
		ATF_REQUIRE_MSG(n != 0, "clean EOF where an error was due");
	}
}

/* Write a header of this type and length, then the data, in full. */
static void
raw_send(int fd, uint32_t type, uint32_t len, const void *data,
    size_t datalen, int sendfd)
{
	ATF_REQUIRE(rawimsg_send(fd, type, len, data, datalen, sendfd) ==
	    (ssize_t)(IMSG_HEADER_SIZE + datalen));
}

static void
fill(unsigned char *p, size_t len, uint32_t seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (seed * 31 + i * 7) & 0xff;
}

/*
 * Send n messages of sizes from 0 to the maximum, reading while
 * writing, and check each one that arrives.
 */
static void
round_trip(struct chan *c, int n)
{
	static unsigned char	 out[MAX_IMSGSIZE], in[MAX_IMSGSIZE];
	struct imsg		 imsg;
	struct pollfd		 pfd[2];
	size_t			 len, maxdata;
	int			 sent = 0, got = 0, r;

	maxdata = MAX_IMSGSIZE - IMSG_HEADER_SIZE;
	while (got < n) {
		/* Queue a few at a time so both buffers fill up. */
		while (sent < n && imsgbuf_queuelen(&c->c_w) < 8) {
			len = (sent * 977) % (maxdata + 1);
			if (sent % 5 == 0)
				len = sent % 3 == 0 ? maxdata : 0;
			fill(out, len, sent);
			ATF_REQUIRE_EQ(imsg_compose(&c->c_w, 100 + sent,
			    sent * 3, 0, -1, out, len), 1);
			sent++;
		}
		pfd[0].fd = c->c_sp[0];
		pfd[0].events = imsgbuf_queuelen(&c->c_w) > 0 ? POLLOUT : 0;
		pfd[1].fd = c->c_sp[1];
		pfd[1].events = POLLIN;
		ATF_REQUIRE_MSG(poll(pfd, 2, POLL_MS) > 0, "stalled at %d",
		    got);
		if (pfd[0].revents & POLLOUT)
			ATF_REQUIRE(imsgbuf_write(&c->c_w) == 0);
		if (!(pfd[1].revents & POLLIN))
			continue;
		r = imsgbuf_read(&c->c_r);
		ATF_REQUIRE_MSG(r == 1 || (r == -1 && errno == EAGAIN),
		    "imsgbuf_read: %d %s", r, strerror(errno));
		while ((r = imsgbuf_get(&c->c_r, &imsg)) == 1) {
			ATF_REQUIRE_EQ(imsg_get_type(&imsg), 100U + got);
			ATF_REQUIRE_EQ(imsg_get_id(&imsg), (uint32_t)got * 3);
			ATF_REQUIRE_EQ(imsg_get_pid(&imsg), getpid());
			ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);
			len = imsg_get_len(&imsg);
			ATF_REQUIRE_EQ(imsg.hdr.len, len + IMSG_HEADER_SIZE);
			fill(out, len, got);
			if (len > 0) {
				ATF_REQUIRE(imsg_get_data(&imsg, in, len) == 0);
				ATF_REQUIRE(memcmp(in, out, len) == 0);
			} else
				ATF_REQUIRE(imsg.data == NULL);
			imsg_free(&imsg);
			got++;
		}
		ATF_REQUIRE_EQ(r, 0);
	}
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&c->c_w), 0);
}

ATF_TC_WITHOUT_HEAD(round_trip_many);
ATF_TC_BODY(round_trip_many, tc)
{
	struct chan	 c;

	chan_open(&c, 0);
	round_trip(&c, 3000);
	chan_close(&c);
}

ATF_TC_WITHOUT_HEAD(small_socket_buffers);
ATF_TC_BODY(small_socket_buffers, tc)
{
	struct chan	 c;
	int		 sz = 1024;

	/*
	 * The kernel rounds up to its minimum, a few KiB: below a full
	 * message, so reads and writes stop inside messages.
	 */
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, c.c_sp) == 0);
	ATF_REQUIRE(setsockopt(c.c_sp[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)) == 0);
	ATF_REQUIRE(setsockopt(c.c_sp[1], SOL_SOCKET, SO_RCVBUF, &sz,
	    sizeof(sz)) == 0);
	chan_init(&c, 0);
	round_trip(&c, 400);
	chan_close(&c);
}

ATF_TC_WITHOUT_HEAD(flush_waits_for_reader);
ATF_TC_BODY(flush_waits_for_reader, tc)
{
	static unsigned char	 buf[8000];
	struct chan		 c;
	struct imsg		 imsg;
	pid_t			 pid;
	int			 i, status;

	chan_open(&c, 0);
	for (i = 0; i < 100; i++)
		ATF_REQUIRE_EQ(imsg_compose(&c.c_w, i, 0, 0, -1, buf,
		    sizeof(buf)), 1);
	/* 800 kB do not fit the socket: flush must wait for a reader. */
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		for (i = 0; i < 100; i++) {
			read_one(&c.c_r, &imsg);
			if (imsg_get_type(&imsg) != (uint32_t)i ||
			    imsg_get_len(&imsg) != sizeof(buf))
				_exit(1);
			imsg_free(&imsg);
		}
		_exit(0);
	}
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&c.c_w), 0);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	chan_close(&c);
}

/* Each message carries the read end of a pipe holding its number. */
ATF_TC_WITHOUT_HEAD(fd_passing);
ATF_TC_BODY(fd_passing, tc)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 i, p[2], fd, nfds;
	char		 buf[16];

	nfds = count_fds();
	chan_open(&c, 1);
	for (i = 0; i < 20; i++) {
		ATF_REQUIRE(pipe(p) == 0);
		snprintf(buf, sizeof(buf), "pipe %d", i);
		ATF_REQUIRE(write(p[1], buf, strlen(buf)) ==
		    (ssize_t)strlen(buf));
		close(p[1]);
		ATF_REQUIRE_EQ(imsg_compose(&c.c_w, i, 0, 0, p[0], buf,
		    strlen(buf) + 1), 1);
		/* Messages without a descriptor in between. */
		ATF_REQUIRE_EQ(imsg_compose(&c.c_w, 1000 + i, 0, 0, -1,
		    NULL, 0), 1);
	}
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);
	for (i = 0; i < 20; i++) {
		read_one(&c.c_r, &imsg);
		ATF_REQUIRE_EQ(imsg_get_type(&imsg), (uint32_t)i);
		ATF_REQUIRE((fd = imsg_get_fd(&imsg)) != -1);
		ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);
		memset(buf, 0, sizeof(buf));
		ATF_REQUIRE(read(fd, buf, sizeof(buf) - 1) > 0);
		ATF_REQUIRE_STREQ(buf, (char *)imsg.data);
		close(fd);
		imsg_free(&imsg);

		read_one(&c.c_r, &imsg);
		ATF_REQUIRE_EQ(imsg_get_type(&imsg), 1000U + i);
		ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);
		imsg_free(&imsg);
	}
	chan_close(&c);
	ATF_REQUIRE_EQ(count_fds(), nfds);
}

/*
 * A read that fills the buffer can end inside the header of a message
 * whose descriptor came along; the next read then brings the rest of
 * that header and the next message with its own descriptor, so two
 * descriptors wait at once for a moment.
 */
ATF_TC_WITHOUT_HEAD(fd_passing_header_split);
ATF_TC_BODY(fd_passing_header_split, tc)
{
	static unsigned char	 fill_data[MAX_IMSGSIZE];
	struct chan		 c;
	struct imsg		 imsg;
	int			 i, p[2], q[2], fd;
	char			 ch;

	chan_open(&c, 1);
	/* 65530 bytes of plain messages: 5 bytes short of a full read. */
	for (i = 0; i < 3; i++)
		ATF_REQUIRE(imsg_compose(&c.c_w, 1, 0, 0, -1, fill_data,
		    MAX_IMSGSIZE - IMSG_HEADER_SIZE) == 1);
	ATF_REQUIRE(imsg_compose(&c.c_w, 1, 0, 0, -1, fill_data,
	    IBUF_READ_SIZE - 5 - 3 * MAX_IMSGSIZE - IMSG_HEADER_SIZE) == 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(pipe(q) == 0);
	ATF_REQUIRE(imsg_compose(&c.c_w, 2, 0, 0, p[1], "p", 2) == 1);
	ATF_REQUIRE(imsg_compose(&c.c_w, 3, 0, 0, q[1], "q", 2) == 1);
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);

	for (i = 0; i < 4; i++) {
		read_one(&c.c_r, &imsg);
		ATF_REQUIRE_EQ(imsg_get_type(&imsg), 1U);
		imsg_free(&imsg);
	}
	read_one(&c.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 2U);
	ATF_REQUIRE((fd = imsg_get_fd(&imsg)) != -1);
	ATF_REQUIRE(write(fd, "P", 1) == 1);
	close(fd);
	imsg_free(&imsg);
	read_one(&c.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 3U);
	ATF_REQUIRE((fd = imsg_get_fd(&imsg)) != -1);
	ATF_REQUIRE(write(fd, "Q", 1) == 1);
	close(fd);
	imsg_free(&imsg);
	ATF_REQUIRE(read(p[0], &ch, 1) == 1 && ch == 'P');
	ATF_REQUIRE(read(q[0], &ch, 1) == 1 && ch == 'Q');
	close(p[0]);
	close(q[0]);
	chan_close(&c);
}

/* A descriptor nobody takes is closed with its message. */
ATF_TC_WITHOUT_HEAD(fd_closed_by_free_and_clear);
ATF_TC_BODY(fd_closed_by_free_and_clear, tc)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 p[2], q[2], nfds;
	char		 ch;

	nfds = count_fds();
	chan_open(&c, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsg_compose(&c.c_w, 1, 0, 0, p[1], NULL, 0) == 1);
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);
	read_one(&c.c_r, &imsg);
	imsg_free(&imsg);
	/* Both copies of the write end are gone: the reader sees EOF. */
	ATF_REQUIRE_EQ(read(p[0], &ch, 1), 0);
	close(p[0]);

	/* Queued, never written: imsgbuf_clear() closes it. */
	ATF_REQUIRE(pipe(q) == 0);
	ATF_REQUIRE(imsg_compose(&c.c_w, 2, 0, 0, q[1], NULL, 0) == 1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&c.c_w), 1);
	chan_close(&c);
	ATF_REQUIRE_EQ(read(q[0], &ch, 1), 0);
	close(q[0]);
	ATF_REQUIRE_EQ(count_fds(), nfds);
}

ATF_TC_WITHOUT_HEAD(fd_refused_when_not_allowed);
ATF_TC_BODY(fd_refused_when_not_allowed, tc)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 p[2], nfds;
	char		 ch;

	nfds = count_fds();
	chan_open(&c, 0);
	imsgbuf_allow_fdpass(&c.c_w);
	ATF_REQUIRE(imsg_compose(&c.c_w, 1, 0, 0, -1, "a", 1) == 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsg_compose(&c.c_w, 2, 0, 0, p[1], "b", 1) == 1);
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);

	ATF_REQUIRE_EQ(read_error(&c.c_r), EBADMSG);
	/* The refused descriptor was closed, not kept. */
	ATF_REQUIRE_EQ(read(p[0], &ch, 1), 0);
	close(p[0]);
	/* The channel stays broken. */
	ATF_REQUIRE_EQ(imsgbuf_read(&c.c_r), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(imsgbuf_get(&c.c_r, &imsg), -1);
	chan_close(&c);
	ATF_REQUIRE_EQ(count_fds(), nfds);
}

ATF_TC_WITHOUT_HEAD(malformed_short_header);
ATF_TC_BODY(malformed_short_header, tc)
{
	struct chan	 c;
	struct imsg	 imsg;

	chan_open(&c, 0);
	raw_send(c.c_sp[0], 1, IMSG_HEADER_SIZE, NULL, 0, -1);
	raw_send(c.c_sp[0], 2, IMSG_HEADER_SIZE - 1, NULL, 0, -1);
	ATF_REQUIRE_EQ(imsgbuf_read(&c.c_r), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	/* What came whole before the bad header is still there. */
	ATF_REQUIRE_EQ(imsgbuf_get(&c.c_r, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 1U);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(imsgbuf_get(&c.c_r, &imsg), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	chan_close(&c);

	chan_open(&c, 0);
	raw_send(c.c_sp[0], 1, 0, NULL, 0, -1);
	ATF_REQUIRE_EQ(read_error(&c.c_r), EBADMSG);
	chan_close(&c);
}

ATF_TC_WITHOUT_HEAD(malformed_oversized_header);
ATF_TC_BODY(malformed_oversized_header, tc)
{
	static unsigned char	 big[MAX_IMSGSIZE];
	struct chan		 c;
	uint32_t		 lens[] = { MAX_IMSGSIZE + 1, 0x7fffffff,
				    0xffffffff, RAWIMSG_FD_MARK | 17 };
	size_t			 i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		chan_open(&c, 1);
		raw_send(c.c_sp[0], 1, lens[i], big, sizeof(big), -1);
		ATF_REQUIRE_MSG(read_error(&c.c_r) ==
		    (lens[i] == (RAWIMSG_FD_MARK | 17) ? EBADMSG : EMSGSIZE),
		    "len %#x", lens[i]);
		chan_close(&c);
	}

	/* A smaller maximum is enforced on reading, too. */
	chan_open(&c, 0);
	ATF_REQUIRE(imsgbuf_set_maxsize(&c.c_r, 100) == 0);
	raw_send(c.c_sp[0], 1, 101, big, 101 - IMSG_HEADER_SIZE, -1);
	ATF_REQUIRE_EQ(read_error(&c.c_r), EMSGSIZE);
	chan_close(&c);
}

ATF_TC_WITHOUT_HEAD(malformed_truncated_then_eof);
ATF_TC_BODY(malformed_truncated_then_eof, tc)
{
	struct chan	 c;
	struct imsg	 imsg;
	char		 data[50];

	memset(data, 'x', sizeof(data));

	/* The body stops short. */
	chan_open(&c, 0);
	raw_send(c.c_sp[0], 1, IMSG_HEADER_SIZE + 100, data, sizeof(data),
	    -1);
	close(c.c_sp[0]);
	c.c_sp[0] = -1;
	ATF_REQUIRE_EQ(imsgbuf_read(&c.c_r), 1);
	ATF_REQUIRE_EQ(imsgbuf_get(&c.c_r, &imsg), 0);
	ATF_REQUIRE_EQ(imsgbuf_read(&c.c_r), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(imsgbuf_get(&c.c_r, &imsg), -1);
	chan_close(&c);

	/* The header stops short. */
	chan_open(&c, 0);
	ATF_REQUIRE(write(c.c_sp[0], data, 5) == 5);
	shutdown(c.c_sp[0], SHUT_WR);
	ATF_REQUIRE_EQ(read_error(&c.c_r), EBADMSG);
	chan_close(&c);

	/* Between messages, the end is clean. */
	chan_open(&c, 0);
	raw_send(c.c_sp[0], 7, IMSG_HEADER_SIZE, NULL, 0, -1);
	shutdown(c.c_sp[0], SHUT_WR);
	read_one(&c.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 7U);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(imsgbuf_read(&c.c_r), 0);
	chan_close(&c);
}

ATF_TC_WITHOUT_HEAD(malformed_fd_mismatch);
ATF_TC_BODY(malformed_fd_mismatch, tc)
{
	struct chan	 c;
	int		 p[2], nfds;
	char		 ch;

	nfds = count_fds();

	/* A descriptor that no message claims. */
	chan_open(&c, 1);
	ATF_REQUIRE(pipe(p) == 0);
	raw_send(c.c_sp[0], 1, IMSG_HEADER_SIZE, NULL, 0, p[1]);
	close(p[1]);
	ATF_REQUIRE_EQ(read_error(&c.c_r), EBADMSG);
	ATF_REQUIRE_EQ(read(p[0], &ch, 1), 0);
	close(p[0]);
	chan_close(&c);

	/* A message that claims a descriptor that never came. */
	chan_open(&c, 1);
	raw_send(c.c_sp[0], 1, RAWIMSG_FD_MARK | IMSG_HEADER_SIZE, NULL, 0,
	    -1);
	ATF_REQUIRE_EQ(read_error(&c.c_r), EBADMSG);
	chan_close(&c);

	/* More descriptors than messages claim: all closed. */
	chan_open(&c, 1);
	ATF_REQUIRE(pipe(p) == 0);
	raw_send(c.c_sp[0], 1, RAWIMSG_FD_MARK | IMSG_HEADER_SIZE, NULL, 0,
	    p[1]);
	raw_send(c.c_sp[0], 2, IMSG_HEADER_SIZE, NULL, 0, p[1]);
	close(p[1]);
	ATF_REQUIRE_EQ(read_error(&c.c_r), EBADMSG);
	chan_close(&c);
	ATF_REQUIRE_EQ(read(p[0], &ch, 1), 0);
	close(p[0]);

	/*
	 * A descriptor with the first bytes of a header that does not
	 * claim it, even when the next header is left incomplete.
	 */
	chan_open(&c, 1);
	ATF_REQUIRE(pipe(p) == 0);
	{
		unsigned char	 two[2 * IMSG_HEADER_SIZE];
		struct imsg_hdr	 hdr;

		memset(&hdr, 0, sizeof(hdr));
		hdr.len = IMSG_HEADER_SIZE;
		memcpy(two, &hdr, sizeof(hdr));
		memcpy(two + sizeof(hdr), &hdr, sizeof(hdr));
		ATF_REQUIRE(rawimsg_bytes(c.c_sp[0], two, 5, NULL, 0, &p[1],
		    1) == 5);
		ATF_REQUIRE(rawimsg_bytes(c.c_sp[0], two + 5, IMSG_HEADER_SIZE,
		    NULL, 0, NULL, 0) == IMSG_HEADER_SIZE);
	}
	close(p[1]);
	ATF_REQUIRE_EQ(read_error(&c.c_r), EBADMSG);
	ATF_REQUIRE_EQ(read(p[0], &ch, 1), 0);
	close(p[0]);
	chan_close(&c);

	/* Two descriptors with one message in one write: both closed. */
	chan_open(&c, 1);
	ATF_REQUIRE(pipe(p) == 0);
	{
		struct imsg_hdr	 hdr;
		int		 two[2] = { p[1], p[1] };

		memset(&hdr, 0, sizeof(hdr));
		hdr.len = RAWIMSG_FD_MARK | IMSG_HEADER_SIZE;
		ATF_REQUIRE(rawimsg_bytes(c.c_sp[0], &hdr, sizeof(hdr), NULL,
		    0, two, 2) == sizeof(hdr));
	}
	close(p[1]);
	ATF_REQUIRE_EQ(read_error(&c.c_r), EBADMSG);
	chan_close(&c);
	ATF_REQUIRE_EQ(read(p[0], &ch, 1), 0);
	close(p[0]);

	ATF_REQUIRE_EQ(count_fds(), nfds);
}

ATF_TC_WITHOUT_HEAD(get_data_exact_size);
ATF_TC_BODY(get_data_exact_size, tc)
{
	struct chan	 c;
	struct imsg	 imsg;
	uint32_t	 v = 0x01020304, small;
	uint64_t	 big;
	uint16_t	 half[2];

	chan_open(&c, 0);
	ATF_REQUIRE(imsg_compose(&c.c_w, 1, 0, 0, -1, &v, sizeof(v)) == 1);
	ATF_REQUIRE(imsg_compose(&c.c_w, 2, 0, 0, -1, NULL, 0) == 1);
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);

	read_one(&c.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, &big, sizeof(big)), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, half, sizeof(half[0])), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, &small, 0), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	/* imsg_get_buf() reads piece by piece. */
	ATF_REQUIRE_EQ(imsg_get_buf(&imsg, &half[0], sizeof(half[0])), 0);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 2U);
	ATF_REQUIRE_EQ(imsg_get_buf(&imsg, &half[1], sizeof(half[1])), 0);
	ATF_REQUIRE(memcmp(half, &v, sizeof(v)) == 0);
	ATF_REQUIRE_EQ(imsg_get_buf(&imsg, &half[1], 1), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	imsg_free(&imsg);

	read_one(&c.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_get_data(&imsg, &small, sizeof(small)), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	imsg_free(&imsg);
	chan_close(&c);
}

static int
strbuf_of(const void *data, size_t len, char *str, size_t slen)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 rv, saved_errno;

	chan_open(&c, 0);
	ATF_REQUIRE(imsg_compose(&c.c_w, 1, 0, 0, -1, data, len) == 1);
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);
	read_one(&c.c_r, &imsg);
	rv = imsg_get_strbuf(&imsg, str, slen);
	saved_errno = errno;
	imsg_free(&imsg);
	chan_close(&c);
	errno = saved_errno;
	return (rv);
}

ATF_TC_WITHOUT_HEAD(get_strbuf);
ATF_TC_BODY(get_strbuf, tc)
{
	char	 str[8];

	ATF_REQUIRE_EQ(strbuf_of("devbox", 7, str, sizeof(str)), 0);
	ATF_REQUIRE_STREQ(str, "devbox");
	ATF_REQUIRE_EQ(strbuf_of("1234567", 8, str, sizeof(str)), 0);
	ATF_REQUIRE_STREQ(str, "1234567");

	ATF_REQUIRE_EQ(strbuf_of("devbox", 6, str, sizeof(str)), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(strbuf_of("dev\0box", 8, str, sizeof(str)), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(strbuf_of(NULL, 0, str, sizeof(str)), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(strbuf_of("12345678", 9, str, sizeof(str)), -1);
	ATF_REQUIRE_EQ(errno, EOVERFLOW);
}

ATF_TC_WITHOUT_HEAD(create_add_close_and_composev);
ATF_TC_BODY(create_add_close_and_composev, tc)
{
	struct chan	 c;
	struct imsg	 imsg;
	struct ibuf	*buf, view;
	struct iovec	 iov[3];
	char		 out[32];

	chan_open(&c, 0);
	ATF_REQUIRE((buf = imsg_create(&c.c_w, 5, 6, 77, 4)) != NULL);
	ATF_REQUIRE_EQ(imsg_add(buf, "abc", 3), 3);
	ATF_REQUIRE_EQ(imsg_add(buf, "defgh", 6), 6);	/* grows */
	imsg_close(&c.c_w, buf);

	iov[0].iov_base = "one ";
	iov[0].iov_len = 4;
	iov[1].iov_base = "two ";
	iov[1].iov_len = 4;
	iov[2].iov_base = "three";
	iov[2].iov_len = 6;
	ATF_REQUIRE_EQ(imsg_composev(&c.c_w, 8, 0, 0, -1, iov, 3), 1);

	ATF_REQUIRE((buf = ibuf_dynamic(4, 64)) != NULL);
	ATF_REQUIRE(ibuf_add(buf, "from an ibuf", 13) == 0);
	ATF_REQUIRE_EQ(imsg_compose_ibuf(&c.c_w, 9, 0, 0, buf), 1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&c.c_w), 3);
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);

	read_one(&c.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 5U);
	ATF_REQUIRE_EQ(imsg_get_id(&imsg), 6U);
	ATF_REQUIRE_EQ(imsg_get_pid(&imsg), 77);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 9U);
	ATF_REQUIRE_EQ(imsg_get_ibuf(&imsg, &view), 0);
	ATF_REQUIRE_EQ(ibuf_size(&view), 9U);
	ATF_REQUIRE_STREQ((char *)ibuf_data(&view), "abcdefgh");
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), 0U);
	imsg_free(&imsg);

	read_one(&c.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_get_strbuf(&imsg, out, sizeof(out)), 0);
	ATF_REQUIRE_STREQ(out, "one two three");
	imsg_free(&imsg);

	read_one(&c.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 9U);
	ATF_REQUIRE_EQ(imsg_get_strbuf(&imsg, out, sizeof(out)), 0);
	ATF_REQUIRE_STREQ(out, "from an ibuf");
	imsg_free(&imsg);

	/* imsg_get() is the older form: it returns the size. */
	ATF_REQUIRE(imsg_compose(&c.c_w, 10, 0, 0, -1, "xy", 2) == 1);
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);
	wait_fd(c.c_sp[1], POLLIN);
	ATF_REQUIRE_EQ(imsgbuf_read(&c.c_r), 1);
	ATF_REQUIRE_EQ(imsg_get(&c.c_r, &imsg),
	    (ssize_t)IMSG_HEADER_SIZE + 2);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(imsg_get(&c.c_r, &imsg), 0);
	chan_close(&c);
}

ATF_TC_WITHOUT_HEAD(maxsize);
ATF_TC_BODY(maxsize, tc)
{
	static unsigned char	 big[MAX_IMSGSIZE];
	struct chan		 c;
	struct ibuf		*buf;
	int			 p[2];
	char			 ch;

	chan_open(&c, 0);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&c.c_w, IMSG_HEADER_SIZE - 1), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	ATF_REQUIRE_EQ(imsgbuf_set_maxsize(&c.c_w, RAWIMSG_FD_MARK), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);

	/* The largest message fits, one byte more does not. */
	ATF_REQUIRE_EQ(imsg_compose(&c.c_w, 1, 0, 0, -1, big,
	    MAX_IMSGSIZE - IMSG_HEADER_SIZE), 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE_EQ(imsg_compose(&c.c_w, 1, 0, 0, p[1], big,
	    MAX_IMSGSIZE - IMSG_HEADER_SIZE + 1), -1);
	ATF_REQUIRE_EQ(errno, ERANGE);
	/* The descriptor of a message not sent is closed. */
	ATF_REQUIRE_EQ(read(p[0], &ch, 1), 0);
	close(p[0]);
	ATF_REQUIRE(imsg_create(&c.c_w, 1, 0, 0, MAX_IMSGSIZE) == NULL);
	ATF_REQUIRE((buf = imsg_create(&c.c_w, 1, 0, 0, 0)) != NULL);
	ATF_REQUIRE_EQ(imsg_add(buf, big, MAX_IMSGSIZE), -1);	/* freed */
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&c.c_w), 1);

	ATF_REQUIRE(imsgbuf_set_maxsize(&c.c_w, 64) == 0);
	ATF_REQUIRE_EQ(imsg_compose(&c.c_w, 1, 0, 0, -1, big, 49), -1);
	ATF_REQUIRE_EQ(imsg_compose(&c.c_w, 1, 0, 0, -1, big, 48), 1);
	chan_close(&c);
}

/* A message passed on keeps its header fields and its descriptor. */
ATF_TC_WITHOUT_HEAD(forward);
ATF_TC_BODY(forward, tc)
{
	struct chan	 a, b;
	struct imsg	 imsg;
	int		 p[2], fd;
	char		 ch;

	chan_open(&a, 1);
	chan_open(&b, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsg_compose(&a.c_w, 42, 43, 44, p[1], "hop", 4) == 1);
	ATF_REQUIRE(imsgbuf_flush(&a.c_w) == 0);
	read_one(&a.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_forward(&b.c_w, &imsg), 1);
	imsg_free(&imsg);
	ATF_REQUIRE(imsgbuf_flush(&b.c_w) == 0);
	read_one(&b.c_r, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), 42U);
	ATF_REQUIRE_EQ(imsg_get_id(&imsg), 43U);
	ATF_REQUIRE_EQ(imsg_get_pid(&imsg), 44);
	ATF_REQUIRE_STREQ((char *)imsg.data, "hop");
	ATF_REQUIRE((fd = imsg_get_fd(&imsg)) != -1);
	ATF_REQUIRE(write(fd, "z", 1) == 1);
	close(fd);
	ATF_REQUIRE(read(p[0], &ch, 1) == 1 && ch == 'z');
	imsg_free(&imsg);
	close(p[0]);
	chan_close(&a);
	chan_close(&b);
}

ATF_TC_WITHOUT_HEAD(write_to_closed_peer);
ATF_TC_BODY(write_to_closed_peer, tc)
{
	struct chan	 c;

	chan_open(&c, 0);
	close(c.c_sp[1]);
	c.c_sp[1] = open("/dev/null", O_RDONLY);
	ATF_REQUIRE(imsg_compose(&c.c_w, 1, 0, 0, -1, "x", 1) == 1);
	/* EPIPE, not a SIGPIPE that kills the program. */
	ATF_REQUIRE_EQ(imsgbuf_write(&c.c_w), -1);
	ATF_REQUIRE_EQ(errno, EPIPE);
	ATF_REQUIRE_EQ(imsgbuf_flush(&c.c_w), -1);
	chan_close(&c);
}

/* A cleared imsgbuf refuses work until imsgbuf_init() again. */
ATF_TC_WITHOUT_HEAD(cleared);
ATF_TC_BODY(cleared, tc)
{
	struct chan	 c;
	struct imsg	 imsg;
	struct ibuf	*buf;
	int		 p[2];
	char		 ch;

	chan_open(&c, 1);
	imsgbuf_clear(&c.c_w);
	imsgbuf_clear(&c.c_w);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&c.c_w), 0U);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE_EQ(imsg_compose(&c.c_w, 1, 0, 0, p[1], NULL, 0), -1);
	ATF_REQUIRE_EQ(errno, EBADF);
	ATF_REQUIRE_EQ(read(p[0], &ch, 1), 0);
	close(p[0]);
	if ((buf = imsg_create(&c.c_w, 1, 0, 0, 0)) != NULL)
		imsg_close(&c.c_w, buf);
	ATF_REQUIRE_EQ(imsgbuf_write(&c.c_w), -1);
	ATF_REQUIRE_EQ(imsgbuf_flush(&c.c_w), 0);
	ATF_REQUIRE_EQ(imsgbuf_read(&c.c_w), -1);
	ATF_REQUIRE_EQ(errno, EBADF);
	ATF_REQUIRE_EQ(imsgbuf_get(&c.c_w, &imsg), -1);
	ATF_REQUIRE(imsgbuf_init(&c.c_w, c.c_sp[0]) == 0);
	ATF_REQUIRE_EQ(imsg_compose(&c.c_w, 1, 0, 0, -1, NULL, 0), 1);
	ATF_REQUIRE(imsgbuf_flush(&c.c_w) == 0);
	read_one(&c.c_r, &imsg);
	imsg_free(&imsg);
	chan_close(&c);
}

ATF_TC_WITHOUT_HEAD(ibuf_writing);
ATF_TC_BODY(ibuf_writing, tc)
{
	struct ibuf	*buf;
	unsigned char	*p;
	const unsigned char want[] = { 0x12, 0x12, 0x34, 0x12, 0x34, 0x56,
	    0x78, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

	ATF_REQUIRE(ibuf_open(0) == NULL);
	ATF_REQUIRE(ibuf_dynamic(8, 4) == NULL);

	ATF_REQUIRE((buf = ibuf_open(sizeof(want))) != NULL);
	ATF_REQUIRE(ibuf_add_n8(buf, 0x12) == 0);
	ATF_REQUIRE(ibuf_add_n16(buf, 0x1234) == 0);
	ATF_REQUIRE(ibuf_add_n32(buf, 0x12345678) == 0);
	ATF_REQUIRE(ibuf_add_n64(buf, 0x0102030405060708ULL) == 0);
	ATF_REQUIRE_EQ(ibuf_size(buf), sizeof(want));
	ATF_REQUIRE(memcmp(ibuf_data(buf), want, sizeof(want)) == 0);
	/* A fixed buffer does not grow. */
	ATF_REQUIRE_EQ(ibuf_left(buf), 0U);
	ATF_REQUIRE_EQ(ibuf_add(buf, "x", 1), -1);
	ATF_REQUIRE_EQ(errno, ERANGE);
	ibuf_free(buf);

	ATF_REQUIRE((buf = ibuf_dynamic(0, 10)) != NULL);
	ATF_REQUIRE_EQ(ibuf_add_n8(buf, 256), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	ATF_REQUIRE_EQ(ibuf_add_n16(buf, 65536), -1);
	ATF_REQUIRE_EQ(ibuf_add_n32(buf, 1ULL << 32), -1);
	ATF_REQUIRE(ibuf_add(buf, "abc", 3) == 0);
	ATF_REQUIRE((p = ibuf_reserve(buf, 4)) != NULL);
	ATF_REQUIRE(p[0] == 0 && p[3] == 0);
	memcpy(p, "defg", 4);
	ATF_REQUIRE(ibuf_add_zero(buf, 3) == 0);
	ATF_REQUIRE_EQ(ibuf_size(buf), 10U);
	ATF_REQUIRE_EQ(ibuf_left(buf), 0U);
	ATF_REQUIRE(ibuf_reserve(buf, 1) == NULL);
	ATF_REQUIRE_EQ(errno, ERANGE);

	ATF_REQUIRE(ibuf_set(buf, 1, "XY", 2) == 0);
	ATF_REQUIRE(memcmp(ibuf_data(buf), "aXYdefg\0\0\0", 10) == 0);
	ATF_REQUIRE(ibuf_set(buf, 9, "XY", 2) == -1);
	ATF_REQUIRE(ibuf_seek(buf, 10, 0) != NULL);
	ATF_REQUIRE(ibuf_seek(buf, 11, 0) == NULL);
	ATF_REQUIRE(ibuf_seek(buf, 2, SIZE_MAX) == NULL);
	ATF_REQUIRE(memcmp(ibuf_seek(buf, 3, 4), "defg", 4) == 0);

	ATF_REQUIRE(ibuf_truncate(buf, 4) == 0);
	ATF_REQUIRE_EQ(ibuf_size(buf), 4U);
	ATF_REQUIRE(ibuf_truncate(buf, 6) == 0);
	ATF_REQUIRE(memcmp(ibuf_data(buf), "aXYd\0\0", 6) == 0);
	ATF_REQUIRE(ibuf_truncate(buf, 11) == -1);

	ATF_REQUIRE_EQ(ibuf_fd_avail(buf), 0);
	ibuf_fd_set(buf, dup(0));
	ATF_REQUIRE_EQ(ibuf_fd_avail(buf), 1);
	ibuf_free(buf);		/* closes the descriptor */
	ibuf_free(NULL);
}

ATF_TC_WITHOUT_HEAD(ibuf_reading);
ATF_TC_BODY(ibuf_reading, tc)
{
	unsigned char	 wire[] = { 0xfe, 0xab, 0xcd, 0xde, 0xad, 0xbe,
	    0xef, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	    'h', 'i', 0, 'y', 'o', 0, 'f', 'i', 'x', 0, 0,
	    'n', 'o', 'n', 'u' };
	struct ibuf	 buf, sub;
	uint8_t		 v8;
	uint16_t	 v16;
	uint32_t	 v32;
	uint64_t	 v64;
	char		 s[8];

	ibuf_from_buffer(&buf, wire, sizeof(wire));
	ATF_REQUIRE_EQ(ibuf_left(&buf), 0U);
	ATF_REQUIRE(ibuf_add(&buf, "x", 1) == -1);	/* read-only view */
	ATF_REQUIRE(ibuf_get_n8(&buf, &v8) == 0 && v8 == 0xfe);
	ATF_REQUIRE(ibuf_get_n16(&buf, &v16) == 0 && v16 == 0xabcd);
	ATF_REQUIRE(ibuf_get_n32(&buf, &v32) == 0 && v32 == 0xdeadbeef);
	ATF_REQUIRE(ibuf_get_n64(&buf, &v64) == 0 &&
	    v64 == 0x1122334455667788ULL);

	/* A NUL-terminated string that fits, then one that does not. */
	ATF_REQUIRE(ibuf_get_string(&buf, s, sizeof(s)) == 0);
	ATF_REQUIRE_STREQ(s, "hi");
	ATF_REQUIRE_EQ(ibuf_get_string(&buf, s, 2), -1);
	ATF_REQUIRE_EQ(errno, EOVERFLOW);
	ATF_REQUIRE(ibuf_get_string(&buf, s, 3) == 0);
	ATF_REQUIRE_STREQ(s, "yo");

	/* A field of fixed width, padded after its NUL. */
	ATF_REQUIRE(ibuf_get_strbuf(&buf, s, 5) == 0);
	ATF_REQUIRE_STREQ(s, "fix");
	ATF_REQUIRE_EQ(ibuf_size(&buf), 4U);
	sub = buf;
	ATF_REQUIRE_EQ(ibuf_get_strbuf(&sub, s, 4), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(strlen(s), 3U);
	sub = buf;
	ATF_REQUIRE_EQ(ibuf_get_string(&sub, s, sizeof(s)), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(ibuf_get_strbuf(&sub, s, 5), -1);

	/* Sub-buffers, skips and reads past the end. */
	ATF_REQUIRE(ibuf_get_ibuf(&buf, 2, &sub) == 0);
	ATF_REQUIRE_EQ(ibuf_size(&sub), 2U);
	ATF_REQUIRE(memcmp(ibuf_data(&sub), "no", 2) == 0);
	ATF_REQUIRE_EQ(ibuf_get_ibuf(&buf, 3, &sub), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE_EQ(ibuf_skip(&buf, 3), -1);
	ATF_REQUIRE(ibuf_skip(&buf, 1) == 0);
	ATF_REQUIRE_EQ(ibuf_get_n16(&buf, &v16), -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	ATF_REQUIRE(ibuf_get_n8(&buf, &v8) == 0 && v8 == 'u');
	ATF_REQUIRE_EQ(ibuf_get_n8(&buf, &v8), -1);

	ibuf_rewind(&buf);
	ATF_REQUIRE_EQ(ibuf_size(&buf), sizeof(wire));
	ibuf_from_ibuf(&sub, &buf);
	ATF_REQUIRE_EQ(ibuf_size(&sub), sizeof(wire));
	ATF_REQUIRE(ibuf_data(&sub) == wire);
}

ATF_TP_ADD_TCS(tp)
{
	/* write_to_closed_peer must see EPIPE, not die of SIGPIPE. */
	signal(SIGPIPE, SIG_DFL);

	ATF_TP_ADD_TC(tp, round_trip_many);
	ATF_TP_ADD_TC(tp, small_socket_buffers);
	ATF_TP_ADD_TC(tp, flush_waits_for_reader);
	ATF_TP_ADD_TC(tp, fd_passing);
	ATF_TP_ADD_TC(tp, fd_passing_header_split);
	ATF_TP_ADD_TC(tp, fd_closed_by_free_and_clear);
	ATF_TP_ADD_TC(tp, fd_refused_when_not_allowed);
	ATF_TP_ADD_TC(tp, malformed_short_header);
	ATF_TP_ADD_TC(tp, malformed_oversized_header);
	ATF_TP_ADD_TC(tp, malformed_truncated_then_eof);
	ATF_TP_ADD_TC(tp, malformed_fd_mismatch);
	ATF_TP_ADD_TC(tp, get_data_exact_size);
	ATF_TP_ADD_TC(tp, get_strbuf);
	ATF_TP_ADD_TC(tp, create_add_close_and_composev);
	ATF_TP_ADD_TC(tp, maxsize);
	ATF_TP_ADD_TC(tp, forward);
	ATF_TP_ADD_TC(tp, write_to_closed_peer);
	ATF_TP_ADD_TC(tp, cleared);
	ATF_TP_ADD_TC(tp, ibuf_writing);
	ATF_TP_ADD_TC(tp, ibuf_reading);
	return (atf_no_error());
}
