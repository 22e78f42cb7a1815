/*
 * imsg: messages make the round trip intact, descriptors travel with
 * the message they belong to, and every malformed stream is refused
 * without a crash.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "imsg.h"

struct pair {
	struct imsgbuf	 p_w;
	struct imsgbuf	 p_r;
	int		 p_fd[2];
};

static void
pair_open(struct pair *p, int fdpass)
{
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, p->p_fd) == 0);
	ATF_REQUIRE(fcntl(p->p_fd[1], F_SETFL, O_NONBLOCK) == 0);
	ATF_REQUIRE(imsgbuf_init(&p->p_w, p->p_fd[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&p->p_r, p->p_fd[1]) == 0);
	if (fdpass) {
		imsgbuf_allow_fdpass(&p->p_w);
		imsgbuf_allow_fdpass(&p->p_r);
	}
}

static void
pair_close(struct pair *p)
{
	imsgbuf_clear(&p->p_w);
	imsgbuf_clear(&p->p_r);
	close(p->p_fd[0]);
	if (p->p_fd[1] != -1)
		close(p->p_fd[1]);
}

/* Read until a message is whole; the result of imsgbuf_get. */
static int
pair_get(struct pair *p, struct imsg *imsg)
{
	int	 n, tries;

	for (tries = 0; tries < 1000; tries++) {
		if ((n = imsgbuf_get(&p->p_r, imsg)) != 0)
			return (n);
		if ((n = imsgbuf_read(&p->p_r)) == -1 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return (n == 0 ? -2 : -1);
	}
	return (0);
}

ATF_TC_WITHOUT_HEAD(round_trip);
ATF_TC_BODY(round_trip, tc)
{
	struct pair	 p;
	struct imsg	 imsg;
	unsigned char	 data[MAX_IMSGSIZE], got[MAX_IMSGSIZE];
	size_t		 len;
	uint32_t	 i;

	pair_open(&p, 0);
	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 7;
	/* Sizes from empty to the largest, more than the socket holds. */
	for (len = 0; len <= MAX_IMSGSIZE - IMSG_HEADER_SIZE; len += 997) {
		ATF_REQUIRE(imsg_compose(&p.p_w, 100 + len, len, 42, -1, data,
		    len) == 1);
		ATF_REQUIRE(imsgbuf_flush(&p.p_w) == 0);
		ATF_REQUIRE_EQ(pair_get(&p, &imsg), 1);
		ATF_CHECK_EQ(imsg_get_type(&imsg), 100 + len);
		ATF_CHECK_EQ(imsg_get_id(&imsg), len);
		ATF_CHECK_EQ(imsg_get_pid(&imsg), 42);
		ATF_CHECK_EQ(imsg_get_len(&imsg), len);
		ATF_CHECK_EQ(imsg_get_fd(&imsg), -1);
		if (len > 0) {
			ATF_CHECK(imsg_get_data(&imsg, got, len) == 0);
			ATF_CHECK(memcmp(got, data, len) == 0);
		}
		imsg_free(&imsg);
	}
	pair_close(&p);
}

ATF_TC_WITHOUT_HEAD(many_queued);
ATF_TC_BODY(many_queued, tc)
{
	struct pair	 p;
	struct imsg	 imsg;
	uint32_t	 i, v;
	int		 small = 4096;

	pair_open(&p, 0);
	/* Small socket buffers: writes and reads are partial. */
	setsockopt(p.p_fd[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(p.p_fd[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	ATF_REQUIRE(fcntl(p.p_fd[0], F_SETFL, O_NONBLOCK) == 0);
	for (i = 0; i < 5000; i++)
		ATF_REQUIRE(imsg_compose(&p.p_w, 1, i, 0, -1, &i,
		    sizeof(i)) == 1);
	ATF_CHECK_EQ(imsgbuf_queuelen(&p.p_w), 5000);
	for (i = 0; i < 5000; i++) {
		while (imsgbuf_get(&p.p_r, &imsg) == 0) {
			ATF_REQUIRE(imsgbuf_write(&p.p_w) == 0);
			if (imsgbuf_read(&p.p_r) == -1)
				ATF_REQUIRE_EQ(errno, EAGAIN);
		}
		ATF_REQUIRE(imsg_get_data(&imsg, &v, sizeof(v)) == 0);
		ATF_REQUIRE_EQ(v, i);
		imsg_free(&imsg);
	}
	ATF_CHECK_EQ(imsgbuf_queuelen(&p.p_w), 0);
	pair_close(&p);
}

ATF_TC_WITHOUT_HEAD(fd_passing);
ATF_TC_BODY(fd_passing, tc)
{
	struct pair	 p;
	struct imsg	 imsg;
	char		 buf[8];
	int		 pipefd[2], fd, i;

	pair_open(&p, 1);
	ATF_REQUIRE(pipe(pipefd) == 0);
	/* A message without, one with, one without a descriptor. */
	ATF_REQUIRE(imsg_compose(&p.p_w, 1, 0, 0, -1, "a", 1) == 1);
	ATF_REQUIRE(imsg_compose(&p.p_w, 2, 0, 0, pipefd[0], "b", 1) == 1);
	ATF_REQUIRE(imsg_compose(&p.p_w, 3, 0, 0, -1, "c", 1) == 1);
	ATF_REQUIRE(imsgbuf_flush(&p.p_w) == 0);
	for (i = 1; i <= 3; i++) {
		ATF_REQUIRE_EQ(pair_get(&p, &imsg), 1);
		ATF_REQUIRE_EQ(imsg_get_type(&imsg), (uint32_t)i);
		fd = imsg_get_fd(&imsg);
		if (i != 2) {
			ATF_CHECK_EQ(fd, -1);
		} else {
			ATF_REQUIRE(fd != -1);
			ATF_REQUIRE(write(pipefd[1], "hello", 5) == 5);
			ATF_CHECK(read(fd, buf, sizeof(buf)) == 5);
			ATF_CHECK(memcmp(buf, "hello", 5) == 0);
			close(fd);
		}
		imsg_free(&imsg);
	}
	close(pipefd[1]);
	pair_close(&p);
}

/* A descriptor that the message does not claim is closed by imsg_free. */
ATF_TC_WITHOUT_HEAD(fd_unclaimed);
ATF_TC_BODY(fd_unclaimed, tc)
{
	struct pair	 p;
	struct imsg	 imsg;
	int		 pipefd[2];
	char		 c;

	pair_open(&p, 1);
	ATF_REQUIRE(pipe(pipefd) == 0);
	ATF_REQUIRE(imsg_compose(&p.p_w, 1, 0, 0, pipefd[1], NULL, 0) == 1);
	ATF_REQUIRE(imsgbuf_flush(&p.p_w) == 0);
	ATF_REQUIRE_EQ(pair_get(&p, &imsg), 1);
	imsg_free(&imsg);
	/* Every write end is closed now: the read sees the end. */
	ATF_CHECK_EQ(read(pipefd[0], &c, 1), 0);
	close(pipefd[0]);
	pair_close(&p);
}

ATF_TC_WITHOUT_HEAD(fd_refused);
ATF_TC_BODY(fd_refused, tc)
{
	struct pair	 p;
	struct imsg	 imsg;
	int		 pipefd[2];

	pair_open(&p, 0);
	imsgbuf_allow_fdpass(&p.p_w);
	ATF_REQUIRE(pipe(pipefd) == 0);
	ATF_REQUIRE(imsg_compose(&p.p_w, 1, 0, 0, pipefd[0], "x", 1) == 1);
	ATF_REQUIRE(imsgbuf_flush(&p.p_w) == 0);
	ATF_CHECK_EQ(pair_get(&p, &imsg), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	close(pipefd[1]);
	pair_close(&p);
}

/* Write raw bytes on the socket, as a hostile peer would. */
static void
raw_header(struct pair *p, uint32_t type, uint16_t len, uint16_t flags)
{
	struct imsg_hdr	 hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = len;
	hdr.flags = flags;
	ATF_REQUIRE(write(p->p_fd[0], &hdr, sizeof(hdr)) == sizeof(hdr));
}

ATF_TC_WITHOUT_HEAD(short_header);
ATF_TC_BODY(short_header, tc)
{
	struct pair	 p;
	struct imsg	 imsg;

	pair_open(&p, 0);
	raw_header(&p, 1, IMSG_HEADER_SIZE - 1, 0);
	ATF_CHECK_EQ(pair_get(&p, &imsg), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	pair_close(&p);
}

ATF_TC_WITHOUT_HEAD(oversized_header);
ATF_TC_BODY(oversized_header, tc)
{
	struct pair	 p;
	struct imsg	 imsg;

	pair_open(&p, 0);
	raw_header(&p, 1, MAX_IMSGSIZE + 1, 0);
	ATF_CHECK_EQ(pair_get(&p, &imsg), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	pair_close(&p);
}

ATF_TC_WITHOUT_HEAD(truncated_message);
ATF_TC_BODY(truncated_message, tc)
{
	struct pair	 p;
	struct imsg	 imsg;

	pair_open(&p, 0);
	raw_header(&p, 1, IMSG_HEADER_SIZE + 100, 0);
	ATF_REQUIRE(write(p.p_fd[0], "only a few", 10) == 10);
	shutdown(p.p_fd[0], SHUT_WR);
	ATF_CHECK_EQ(pair_get(&p, &imsg), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	pair_close(&p);
}

/* A header that claims a descriptor that never came. */
ATF_TC_WITHOUT_HEAD(missing_fd);
ATF_TC_BODY(missing_fd, tc)
{
	struct pair	 p;
	struct imsg	 imsg;

	pair_open(&p, 1);
	raw_header(&p, 1, IMSG_HEADER_SIZE, IMSGF_HASFD);
	ATF_CHECK_EQ(pair_get(&p, &imsg), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	pair_close(&p);
}

ATF_TC_WITHOUT_HEAD(clean_eof);
ATF_TC_BODY(clean_eof, tc)
{
	struct pair	 p;
	struct imsg	 imsg;

	pair_open(&p, 0);
	shutdown(p.p_fd[0], SHUT_WR);
	ATF_CHECK_EQ(pair_get(&p, &imsg), -2);
	pair_close(&p);
}

ATF_TC_WITHOUT_HEAD(compose_too_big);
ATF_TC_BODY(compose_too_big, tc)
{
	struct pair	 p;
	static char	 big[MAX_IMSGSIZE];
	int		 pipefd[2];

	pair_open(&p, 1);
	ATF_REQUIRE(pipe(pipefd) == 0);
	ATF_CHECK_EQ(imsg_compose(&p.p_w, 1, 0, 0, pipefd[0], big,
	    sizeof(big)), -1);
	/* A refused message closes its descriptor. */
	ATF_CHECK_EQ(fcntl(pipefd[0], F_GETFD), -1);
	ATF_CHECK_EQ(imsgbuf_queuelen(&p.p_w), 0);
	close(pipefd[1]);
	pair_close(&p);
}

ATF_TC_WITHOUT_HEAD(get_data_sizes);
ATF_TC_BODY(get_data_sizes, tc)
{
	struct pair	 p;
	struct imsg	 imsg;
	uint32_t	 v = 7;
	uint64_t	 big;
	uint16_t	 small;
	char		 str[16];

	pair_open(&p, 0);
	ATF_REQUIRE(imsg_compose(&p.p_w, 1, 0, 0, -1, &v, sizeof(v)) == 1);
	ATF_REQUIRE(imsg_compose(&p.p_w, 2, 0, 0, -1, "abc", 3) == 1);
	ATF_REQUIRE(imsg_compose(&p.p_w, 3, 0, 0, -1, "abc", 4) == 1);
	ATF_REQUIRE(imsgbuf_flush(&p.p_w) == 0);

	ATF_REQUIRE_EQ(pair_get(&p, &imsg), 1);
	ATF_CHECK_EQ(imsg_get_data(&imsg, &big, sizeof(big)), -1);
	ATF_CHECK_EQ(imsg_get_data(&imsg, &small, sizeof(small)), -1);
	ATF_CHECK_EQ(imsg_get_data(&imsg, &v, 0), -1);
	ATF_CHECK_EQ(imsg_get_data(&imsg, &v, sizeof(v)), 0);
	ATF_CHECK_EQ(v, 7);
	imsg_free(&imsg);

	/* A string without its terminator is refused. */
	ATF_REQUIRE_EQ(pair_get(&p, &imsg), 1);
	ATF_CHECK_EQ(imsg_get_strbuf(&imsg, str, sizeof(str)), -1);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(pair_get(&p, &imsg), 1);
	ATF_CHECK_EQ(imsg_get_strbuf(&imsg, str, 3), -1);
	ATF_CHECK_EQ(imsg_get_strbuf(&imsg, str, sizeof(str)), 0);
	ATF_CHECK_STREQ(str, "abc");
	imsg_free(&imsg);
	pair_close(&p);
}

ATF_TC_WITHOUT_HEAD(ibuf_bounds);
ATF_TC_BODY(ibuf_bounds, tc)
{
	struct ibuf	*buf, view;
	uint32_t	 n32;
	uint16_t	 n16;
	char		 dst[8], *s;

	ATF_REQUIRE((buf = ibuf_dynamic(4, 10)) != NULL);
	ATF_CHECK(ibuf_add_n32(buf, 0x01020304) == 0);
	ATF_CHECK(ibuf_add_n16(buf, 0x10000) == -1);
	ATF_CHECK(ibuf_add_n16(buf, 0x0506) == 0);
	ATF_CHECK(ibuf_add(buf, "abcde", 5) == -1);
	ATF_CHECK_EQ(ibuf_size(buf), 6);
	ATF_CHECK_EQ(ibuf_left(buf), 4);
	ATF_CHECK(ibuf_add(buf, "ab\0", 3) == 0);
	ATF_CHECK(ibuf_seek(buf, 8, 2) == NULL);

	ibuf_from_ibuf(&view, buf);
	ATF_CHECK(ibuf_get_n32(&view, &n32) == 0 && n32 == 0x01020304);
	ATF_CHECK(ibuf_get_n16(&view, &n16) == 0 && n16 == 0x0506);
	ATF_CHECK(ibuf_get_strbuf(&view, dst, 2) == -1);
	ATF_CHECK(ibuf_get_strbuf(&view, dst, sizeof(dst)) == 0);
	ATF_CHECK_STREQ(dst, "ab");
	ATF_CHECK(ibuf_get_n16(&view, &n16) == -1);
	ATF_CHECK_EQ(errno, EBADMSG);

	ibuf_from_ibuf(&view, buf);
	ATF_CHECK(ibuf_skip(&view, 6) == 0);
	ATF_CHECK((s = ibuf_get_string(&view, 3)) == NULL);
	ATF_CHECK((s = ibuf_get_string(&view, 2)) != NULL);
	ATF_CHECK_STREQ(s, "ab");
	free(s);
	ibuf_free(buf);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, round_trip);
	ATF_TP_ADD_TC(tp, many_queued);
	ATF_TP_ADD_TC(tp, fd_passing);
	ATF_TP_ADD_TC(tp, fd_unclaimed);
	ATF_TP_ADD_TC(tp, fd_refused);
	ATF_TP_ADD_TC(tp, short_header);
	ATF_TP_ADD_TC(tp, oversized_header);
	ATF_TP_ADD_TC(tp, truncated_message);
	ATF_TP_ADD_TC(tp, missing_fd);
	ATF_TP_ADD_TC(tp, clean_eof);
	ATF_TP_ADD_TC(tp, compose_too_big);
	ATF_TP_ADD_TC(tp, get_data_sizes);
	ATF_TP_ADD_TC(tp, ibuf_bounds);
	return (atf_no_error());
}
