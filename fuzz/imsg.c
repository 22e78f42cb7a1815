/*
 * Fuzz imsg as a hostile peer would drive it: the input is a stream of
 * bytes written onto one end of a socketpair, in pieces of a size it
 * chooses and optionally with descriptors attached, and read with
 * imsgbuf_read() and imsgbuf_get() on the other end.  Every message
 * that comes out is taken apart with the readers a dispatcher uses and
 * forwarded, and at the end no descriptor may be left open.
 *
 * Input: byte 0 selects the mode (bit 0: the reader takes descriptors;
 * bit 1: the reader's maximum is 64 bytes; bits 2-7: the size of the
 * pieces), byte 1 says which pieces carry a descriptor (piece i if bit
 * i % 8 is set), and the rest is the stream.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "fuzz.h"

#define FUZZ_SMALL_MAX	64
#define FUZZ_MAX_QUEUED	16	/* forwarded messages kept at once */

static int	fuzz_take_apart(struct imsgbuf *, struct imsgbuf *);
static int	fuzz_drain(struct imsgbuf *, struct imsgbuf *);

/*
 * Take one message and use every reader on it, as dispatchers do.
 * Returns what imsgbuf_get() did.
 */
static int
fuzz_take_apart(struct imsgbuf *ib, struct imsgbuf *out)
{
	struct imsg	 imsg;
	struct ibuf	 view;
	uint64_t	 v64;
	uint32_t	 v32;
	uint16_t	 v16;
	uint8_t		 v8, small[16];
	char		 str[64];
	size_t		 len;
	int		 fd, n;

	if ((n = imsgbuf_get(ib, &imsg)) != 1)
		return (n);
	len = imsg_get_len(&imsg);
	if (imsg.hdr.len != len + IMSG_HEADER_SIZE ||
	    imsg.hdr.len > ib->maxsize)
		abort();
	(void)imsg_get_type(&imsg);
	(void)imsg_get_id(&imsg);
	(void)imsg_get_pid(&imsg);

	/* Forward a copy, descriptor included, before reading it. */
	if (imsg_forward(out, &imsg) != 1)
		abort();

	if (imsg_get_data(&imsg, small, sizeof(small)) == 0 &&
	    len != sizeof(small))
		abort();
	if (imsg_get_strbuf(&imsg, str, sizeof(str)) == 0 &&
	    strlen(str) + 1 != len)
		abort();
	if ((fd = imsg_get_fd(&imsg)) != -1)
		close(fd);
	if (imsg_get_buf(&imsg, &v8, sizeof(v8)) == 0 && len == 0)
		abort();
	if (imsg_get_ibuf(&imsg, &view) == -1)
		abort();
	while (ibuf_size(&view) > 0) {
		if (ibuf_get_n8(&view, &v8) == -1)
			abort();
		switch (v8 % 6) {
		case 0:
			(void)ibuf_get_n16(&view, &v16);
			break;
		case 1:
			(void)ibuf_get_n32(&view, &v32);
			break;
		case 2:
			(void)ibuf_get_n64(&view, &v64);
			break;
		case 3:
			(void)ibuf_get_string(&view, str, 1 + v8 % 32);
			break;
		case 4:
			(void)ibuf_get_strbuf(&view, str, 1 + v8 % 32);
			break;
		default:
			(void)ibuf_skip(&view, v8 % 8);
			break;
		}
	}
	imsg_free(&imsg);
	return (1);
}

/* Read what there is; 0 while the channel is usable, -1 after. */
static int
fuzz_drain(struct imsgbuf *ib, struct imsgbuf *out)
{
	int		 n;

	for (;;) {
		n = imsgbuf_read(ib);
		if (n == -1 && errno == EAGAIN)
			return (0);
		if (n < -1 || n > 1)
			abort();
		/* Messages whole before an error are still handed out. */
		while (fuzz_take_apart(ib, out) == 1)
			;
		if (imsgbuf_queuelen(out) > FUZZ_MAX_QUEUED) {
			imsgbuf_clear(out);
			if (imsgbuf_init(out, -1) == -1)
				abort();
			imsgbuf_allow_fdpass(out);
		}
		if (n != 1)
			return (-1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_chan	 fc;
	struct imsgbuf		 out;
	size_t			 off, piece, i;
	uint8_t			 mode, fdmask;
	int			 broken = 0;

	if (size < 2)
		return (0);
	mode = data[0];
	fdmask = data[1];
	data += 2;
	size -= 2;

	fuzz_fds_save();

	/* The stream is written raw on the other end, not with fc_out. */
	fuzz_chan_open(&fc, mode & 0x01);
	if (imsgbuf_init(&out, -1) == -1)
		abort();
	imsgbuf_allow_fdpass(&out);
	if ((mode & 0x02) &&
	    imsgbuf_set_maxsize(&fc.fc_in, FUZZ_SMALL_MAX) == -1)
		abort();

	piece = 1 + (mode >> 2) * 23;
	for (off = 0, i = 0; off < size && !broken; off += piece, i++) {
		if (piece > size - off)
			piece = size - off;
		/* The reader drains after each piece, so there is room. */
		if (fuzz_send(fc.fc_sp[0], data + off, piece,
		    fdmask & (1 << (i % 8))) != (ssize_t)piece)
			abort();
		broken = fuzz_drain(&fc.fc_in, &out) == -1;
	}
	shutdown(fc.fc_sp[0], SHUT_WR);
	while (!broken)
		broken = fuzz_drain(&fc.fc_in, &out) == -1;

	imsgbuf_clear(&out);
	fuzz_chan_close(&fc);
	fuzz_fds_check();
	return (0);
}
