/*
 * What the fuzz targets share; see fuzz.h.  Nothing here may fail
 * quietly: a step that cannot be taken aborts, as the targets do.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "../regress/rawimsg.h"
#include "fuzz.h"

/*
 * The descriptors compared.  A leaked one takes the lowest free number,
 * just above those open already, of which castrad under the control
 * target holds a few dozen.
 */
#define FUZZ_FD_RANGE	256

static uint8_t	 fuzz_fds_open[FUZZ_FD_RANGE];

/*
 * One poll(2) rather than a fcntl(2) for each descriptor, which would
 * halve the inputs a target runs: a closed one comes back POLLNVAL.
 */
static void
fuzz_fds_scan(uint8_t *isopen)
{
	struct pollfd	 pfd[FUZZ_FD_RANGE];
	int		 fd;

	for (fd = 0; fd < FUZZ_FD_RANGE; fd++) {
		pfd[fd].fd = fd;
		pfd[fd].events = 0;
	}
	if (poll(pfd, FUZZ_FD_RANGE, 0) == -1)
		abort();
	for (fd = 0; fd < FUZZ_FD_RANGE; fd++)
		isopen[fd] = (pfd[fd].revents & POLLNVAL) == 0;
}

/* Note which of the low descriptors are open before an input. */
void
fuzz_fds_save(void)
{
	fuzz_fds_scan(fuzz_fds_open);
}

/* After it, the same must be open: none leaked, none of ours closed. */
void
fuzz_fds_check(void)
{
	uint8_t	 now[FUZZ_FD_RANGE];

	fuzz_fds_scan(now);
	CHECK(memcmp(fuzz_fds_open, now, sizeof(now)) == 0);
}

/*
 * The payload of a message whose struct is want bytes: the input cut
 * or padded with zeros to that size, so that a reader gets past its
 * size check and the fuzzer works on the fields.  NULL if no imsg
 * could carry it.
 */
const void *
fuzz_payload(const uint8_t *data, size_t size, size_t want)
{
	static unsigned char	 payload[FUZZ_PAYLOAD_MAX];

	if (want > sizeof(payload))
		return (NULL);
	memset(payload, 0, want);
	memcpy(payload, data, want < size ? want : size);
	return (payload);
}

/*
 * Non-blocking, so that a reader fed raw bytes sees EAGAIN where the
 * stream stops; in takes descriptors if fdpass is set.
 */
void
fuzz_chan_open(struct fuzz_chan *fc, int fdpass)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fc->fc_sp) == -1 ||
	    imsgbuf_init(&fc->fc_out, fc->fc_sp[0]) == -1 ||
	    imsgbuf_init(&fc->fc_in, fc->fc_sp[1]) == -1)
		abort();
	if (fdpass)
		imsgbuf_allow_fdpass(&fc->fc_in);
}

/* One message across the channel, taken as the daemons take it. */
void
fuzz_chan_pass(struct fuzz_chan *fc, uint32_t type, int fd,
    const void *data, size_t len, struct imsg *imsg)
{
	if (imsg_compose(&fc->fc_out, type, 0, 0, fd, data, len) != 1 ||
	    imsgbuf_flush(&fc->fc_out) == -1 ||
	    imsgbuf_read(&fc->fc_in) != 1 ||
	    imsgbuf_get(&fc->fc_in, imsg) != 1)
		abort();
}

void
fuzz_chan_close(struct fuzz_chan *fc)
{
	imsgbuf_clear(&fc->fc_out);
	imsgbuf_clear(&fc->fc_in);
	close(fc->fc_sp[0]);
	close(fc->fc_sp[1]);
}

/*
 * The one message of a target that reads a kind of them.  Byte 0 picks
 * the kind (bits 0-2, modulo the number of kinds), passes /dev/null
 * with it (bit 6), which the reader must close or leave to imsg_free(),
 * and sends the payload at its own size rather than that of the kind's
 * struct (bit 7).  The message crosses a new channel; NULL if the input
 * makes none.
 */
const struct fuzz_kind *
fuzz_kind_open(struct fuzz_chan *fc, struct imsg *imsg,
    const struct fuzz_kind *kinds, size_t nkinds, const uint8_t *data,
    size_t size)
{
	const struct fuzz_kind	*fk;
	const void		*payload;
	size_t			 len;
	int			 fd = -1;

	if (size < 1)
		return (NULL);
	fk = &kinds[(data[0] & 0x07) % nkinds];
	len = data[0] & 0x80 ? size - 1 : fk->fk_size;
	if ((payload = fuzz_payload(data + 1, size - 1, len)) == NULL)
		return (NULL);

	fuzz_fds_save();
	fuzz_chan_open(fc, 1);
	if (data[0] & 0x40 && (fd = open("/dev/null", O_RDONLY)) == -1)
		abort();
	fuzz_chan_pass(fc, fk->fk_type, fd, payload, len, imsg);
	return (fk);
}

/* Done with the message: no descriptor may be left open. */
void
fuzz_kind_close(struct fuzz_chan *fc, struct imsg *imsg)
{
	imsg_free(imsg);
	fuzz_chan_close(fc);
	fuzz_fds_check();
}

/*
 * Write len bytes, a piece of an imsg stream, with a descriptor of
 * /dev/null attached if withfd is set.  Returns what sendmsg(2) did:
 * a peer may close first, and whether that is right is the caller's
 * to judge.
 */
ssize_t
fuzz_send(int sock, const void *p, size_t len, int withfd)
{
	ssize_t	 n;
	int	 nullfd = -1;

	if (withfd && (nullfd = open("/dev/null", O_RDONLY)) == -1)
		abort();
	n = rawimsg_bytes(sock, p, len, NULL, 0, &nullfd, nullfd != -1);
	if (nullfd != -1)
		close(nullfd);
	return (n);
}
