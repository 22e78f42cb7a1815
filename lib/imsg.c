/*
 * imsg: framed messages between processes over a stream socket, each
 * optionally carrying one descriptor.
 *
 * On the wire a message is a struct imsg_hdr in host byte order
 * followed by its data; the header's len counts the header too, and
 * its top bit (IMSG_FD_MARK) says that a descriptor travels with the
 * message.  The writer sends a descriptor with the first byte of its
 * message, so the descriptor always arrives no later than the header
 * that claims it.
 *
 * imsgbuf_read() reads once into a fixed buffer, queues the
 * descriptors that came along and cuts the bytes into whole messages;
 * imsgbuf_get() hands them out.  The peer is not trusted: a length
 * shorter than a header or longer than the channel's maximum, a
 * descriptor on a channel that does not take them, a descriptor that
 * no message claims or a message that claims none, and a stream that
 * ends inside a message all fail the read with EBADMSG (EMSGSIZE for a
 * length over the maximum).  From then on the channel is broken: its
 * framing is lost, so every later read fails the same way and the
 * caller is expected to close it.  Messages read whole before the
 * failure can still be taken.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSG_ALLOW_FDPASS	0x01
#define IMSG_BROKEN		0x02	/* framing lost, reads fail */
#define IMSG_FD_MARK		0x80000000U
#define IMSG_WRITE_IOV		64	/* messages per sendmsg(2) */
#define IMSG_CMSG_FDS		8	/* room to receive, and close, extras */
#define IMSG_PENDING_FDS	2	/* see imsg_recv_fds() */

struct msgbuf {
	TAILQ_HEAD(, ibuf)	 mb_out;	/* to write, oldest first */
	uint32_t		 mb_queued;
	TAILQ_HEAD(, ibuf)	 mb_in;		/* read whole, not yet taken */
	struct ibuf		*mb_part;	/* the message being read */
	int			 mb_fds[IMSG_PENDING_FDS]; /* unclaimed */
	int			 mb_nfds;
	int			 mb_fdwait;	/* next header must claim */
	size_t			 mb_rlen;	/* bytes in mb_rbuf */
	unsigned char		 mb_rbuf[IBUF_READ_SIZE];
};

static void	 msgbuf_free_reader(struct msgbuf *);
static void	 msgbuf_close_fds(struct msgbuf *);
static int	 imsg_recv_fds(struct imsgbuf *, struct msghdr *);
static int	 imsg_parse_hdr(struct imsgbuf *, const unsigned char *);
static int	 imsg_parse(struct imsgbuf *);
static int	 imsg_fail(struct imsgbuf *, int);
static int	 imsg_send(struct imsgbuf *);
static void	 imsg_drain(struct msgbuf *, size_t);

int
imsgbuf_init(struct imsgbuf *imsgbuf, int fd)
{
	struct msgbuf	*mb;

	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return (-1);
	TAILQ_INIT(&mb->mb_out);
	TAILQ_INIT(&mb->mb_in);
	imsgbuf->w = mb;
	imsgbuf->pid = getpid();
	imsgbuf->maxsize = MAX_IMSGSIZE;
	imsgbuf->fd = fd;
	imsgbuf->flags = 0;
	return (0);
}

void
imsgbuf_allow_fdpass(struct imsgbuf *imsgbuf)
{
	imsgbuf->flags |= IMSG_ALLOW_FDPASS;
}

/* The maximum counts the header; the top bit of len is the fd mark. */
int
imsgbuf_set_maxsize(struct imsgbuf *imsgbuf, uint32_t maxsize)
{
	if (maxsize < IMSG_HEADER_SIZE || maxsize & IMSG_FD_MARK) {
		errno = EINVAL;
		return (-1);
	}
	imsgbuf->maxsize = maxsize;
	return (0);
}

/*
 * Mark the channel broken and drop what was half read; the messages
 * already whole stay for imsgbuf_get().
 */
static int
imsg_fail(struct imsgbuf *imsgbuf, int error)
{
	struct msgbuf	*mb = imsgbuf->w;

	imsgbuf->flags |= IMSG_BROKEN;
	ibuf_free(mb->mb_part);
	mb->mb_part = NULL;
	msgbuf_close_fds(mb);
	mb->mb_fdwait = 0;
	mb->mb_rlen = 0;
	errno = error;
	return (-1);
}

static void
msgbuf_close_fds(struct msgbuf *mb)
{
	while (mb->mb_nfds > 0)
		close(mb->mb_fds[--mb->mb_nfds]);
}

/*
 * Take the descriptors a read brought.  A writer passes one descriptor
 * per sendmsg(2), and Linux ends a read after the bytes that carried
 * descriptors, so more than one, or any on a channel that does not take
 * them, is the peer misbehaving: every descriptor received is closed,
 * never leaked.  One may still wait from the read before, when that
 * read ended inside the header that claims it; hence room for two.
 */
static int
imsg_recv_fds(struct imsgbuf *imsgbuf, struct msghdr *msg)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct cmsghdr	*cmsg;
	int		*fds, i, n, got = 0, bad = 0;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)CMSG_DATA(cmsg);
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			if (!(imsgbuf->flags & IMSG_ALLOW_FDPASS) ||
			    got++ > 0 || mb->mb_nfds == IMSG_PENDING_FDS) {
				close(fds[i]);
				bad = 1;
			} else
				mb->mb_fds[mb->mb_nfds++] = fds[i];
		}
	}
	if (msg->msg_flags & MSG_CTRUNC)
		bad = 1;
	return (bad ? -1 : 0);
}

/* Check a header and start the message it announces. */
static int
imsg_parse_hdr(struct imsgbuf *imsgbuf, const unsigned char *p)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct imsg_hdr	 hdr;
	uint32_t	 len;

	memcpy(&hdr, p, sizeof(hdr));
	len = hdr.len & ~IMSG_FD_MARK;
	if (len < IMSG_HEADER_SIZE)
		return (imsg_fail(imsgbuf, EBADMSG));
	if (len > imsgbuf->maxsize)
		return (imsg_fail(imsgbuf, EMSGSIZE));
	if ((hdr.len & IMSG_FD_MARK) && mb->mb_nfds == 0)
		return (imsg_fail(imsgbuf, EBADMSG));
	if (mb->mb_fdwait && !(hdr.len & IMSG_FD_MARK))
		return (imsg_fail(imsgbuf, EBADMSG));
	mb->mb_fdwait = 0;
	if ((mb->mb_part = ibuf_open(len)) == NULL)
		return (imsg_fail(imsgbuf, errno));
	if (hdr.len & IMSG_FD_MARK) {
		/* The oldest descriptor waiting is this message's. */
		mb->mb_part->fd = mb->mb_fds[0];
		mb->mb_fds[0] = mb->mb_fds[1];
		mb->mb_nfds--;
	}
	return (0);
}

/* Cut the bytes read so far into messages. */
static int
imsg_parse(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct ibuf	*part;
	size_t		 off = 0, n;

	while (off < mb->mb_rlen) {
		if (mb->mb_part == NULL) {
			if (mb->mb_rlen - off < IMSG_HEADER_SIZE)
				break;
			if (imsg_parse_hdr(imsgbuf, mb->mb_rbuf + off) == -1)
				return (-1);
		}
		part = mb->mb_part;
		n = ibuf_left(part);
		if (n > mb->mb_rlen - off)
			n = mb->mb_rlen - off;
		if (ibuf_add(part, mb->mb_rbuf + off, n) == -1)
			return (imsg_fail(imsgbuf, errno));
		off += n;
		if (ibuf_left(part) == 0) {
			TAILQ_INSERT_TAIL(&mb->mb_in, part, entry);
			mb->mb_part = NULL;
		}
	}
	memmove(mb->mb_rbuf, mb->mb_rbuf + off, mb->mb_rlen - off);
	mb->mb_rlen -= off;

	/*
	 * A descriptor may wait only for the header still incomplete,
	 * and that header must claim it; otherwise no message did.
	 */
	if (mb->mb_nfds > 1 || (mb->mb_nfds == 1 &&
	    (mb->mb_part != NULL || mb->mb_rlen == 0)))
		return (imsg_fail(imsgbuf, EBADMSG));
	mb->mb_fdwait = mb->mb_nfds == 1;
	return (0);
}

/*
 * Read once.  Returns 1 when bytes were read, 0 when the stream ended
 * between messages, and -1 with errno set otherwise; EAGAIN means that
 * nothing is there to read yet.
 */
int
imsgbuf_read(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * IMSG_CMSG_FDS)];
	} cmsgbuf;
	ssize_t		 n;

	if (mb == NULL) {
		errno = EBADF;
		return (-1);
	}
	if (imsgbuf->flags & IMSG_BROKEN) {
		errno = EBADMSG;
		return (-1);
	}

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = mb->mb_rbuf + mb->mb_rlen;
	iov.iov_len = sizeof(mb->mb_rbuf) - mb->mb_rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

	if ((n = recvmsg(imsgbuf->fd, &msg, MSG_CMSG_CLOEXEC)) == -1)
		return (-1);
	if (imsg_recv_fds(imsgbuf, &msg) == -1)
		return (imsg_fail(imsgbuf, EBADMSG));
	if (n == 0) {
		/* The end of the stream inside a message. */
		if (mb->mb_part != NULL || mb->mb_rlen > 0 || mb->mb_nfds > 0)
			return (imsg_fail(imsgbuf, EBADMSG));
		return (0);
	}
	mb->mb_rlen += n;
	if (imsg_parse(imsgbuf) == -1)
		return (-1);
	return (1);
}

/* Forget written bytes; a message written whole leaves the queue. */
static void
imsg_drain(struct msgbuf *mb, size_t n)
{
	struct ibuf	*buf;
	size_t		 left;

	while (n > 0 && (buf = TAILQ_FIRST(&mb->mb_out)) != NULL) {
		left = ibuf_size(buf);
		if (n < left) {
			buf->rpos += n;
			return;
		}
		n -= left;
		TAILQ_REMOVE(&mb->mb_out, buf, entry);
		mb->mb_queued--;
		ibuf_free(buf);
	}
}

/*
 * One sendmsg(2) of as many queued messages as fit.  A descriptor goes
 * with the first byte of its message, so a message that carries one
 * is only ever first in a batch.
 */
static int
imsg_send(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct ibuf	*buf, *first;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov[IMSG_WRITE_IOV];
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	ssize_t		 n;
	int		 i = 0;

	memset(&msg, 0, sizeof(msg));
	first = TAILQ_FIRST(&mb->mb_out);
	TAILQ_FOREACH(buf, &mb->mb_out, entry) {
		if (i == IMSG_WRITE_IOV || (i > 0 && buf->fd != -1))
			break;
		iov[i].iov_base = ibuf_data(buf);
		iov[i].iov_len = ibuf_size(buf);
		i++;
	}
	msg.msg_iov = iov;
	msg.msg_iovlen = i;
	if (first->fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &first->fd, sizeof(int));
	}

	/* MSG_NOSIGNAL: a vanished peer is EPIPE, not a fatal signal. */
	if ((n = sendmsg(imsgbuf->fd, &msg, MSG_NOSIGNAL)) == -1)
		return (-1);
	if (first->fd != -1) {
		/* The peer has its copy now; never send it twice. */
		close(first->fd);
		first->fd = -1;
	}
	imsg_drain(mb, n);
	return (0);
}

/*
 * Write what the socket takes now.  Returns 0 when all is written or
 * the socket is full (the rest stays queued), -1 on an error.
 */
int
imsgbuf_write(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;

	if (mb == NULL) {
		errno = EBADF;
		return (-1);
	}
	while (!TAILQ_EMPTY(&mb->mb_out)) {
		if (imsg_send(imsgbuf) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS)
				return (0);
			return (-1);
		}
	}
	return (0);
}

/* Write everything, waiting for the socket when it is full. */
int
imsgbuf_flush(struct imsgbuf *imsgbuf)
{
	struct pollfd	 pfd;

	while (imsgbuf_queuelen(imsgbuf) > 0) {
		if (imsgbuf_write(imsgbuf) == -1)
			return (-1);
		if (imsgbuf_queuelen(imsgbuf) == 0)
			break;
		pfd.fd = imsgbuf->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
	}
	return (0);
}

static void
msgbuf_free_reader(struct msgbuf *mb)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(&mb->mb_in)) != NULL) {
		TAILQ_REMOVE(&mb->mb_in, buf, entry);
		ibuf_free(buf);
	}
	ibuf_free(mb->mb_part);
	mb->mb_part = NULL;
	msgbuf_close_fds(mb);
	mb->mb_rlen = 0;
}

/*
 * Drop everything queued either way, closing the descriptors in it.
 * The imsgbuf is unusable afterwards until imsgbuf_init() again; the
 * socket itself is the caller's.
 */
void
imsgbuf_clear(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct ibuf	*buf;

	if (mb == NULL)
		return;
	while ((buf = TAILQ_FIRST(&mb->mb_out)) != NULL) {
		TAILQ_REMOVE(&mb->mb_out, buf, entry);
		ibuf_free(buf);
	}
	msgbuf_free_reader(mb);
	free(mb);
	imsgbuf->w = NULL;
}

uint32_t
imsgbuf_queuelen(struct imsgbuf *imsgbuf)
{
	if (imsgbuf->w == NULL)
		return (0);
	return (imsgbuf->w->mb_queued);
}

/*
 * Take the oldest message read.  Returns 1 and fills imsg, 0 when no
 * whole message is there, -1 when none is and the channel is broken.
 */
int
imsgbuf_get(struct imsgbuf *imsgbuf, struct imsg *imsg)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct ibuf	*buf;

	if (mb == NULL) {
		errno = EBADF;
		return (-1);
	}
	if ((buf = TAILQ_FIRST(&mb->mb_in)) == NULL) {
		if (imsgbuf->flags & IMSG_BROKEN) {
			errno = EBADMSG;
			return (-1);
		}
		return (0);
	}
	TAILQ_REMOVE(&mb->mb_in, buf, entry);

	memset(imsg, 0, sizeof(*imsg));
	if (ibuf_get(buf, &imsg->hdr, sizeof(imsg->hdr)) == -1) {
		/* imsg_parse_hdr() let no such message through. */
		ibuf_free(buf);
		errno = EBADMSG;
		return (-1);
	}
	imsg->hdr.len &= ~IMSG_FD_MARK;
	imsg->data = ibuf_size(buf) > 0 ? ibuf_data(buf) : NULL;
	imsg->buf = buf;
	return (1);
}

/* The older interface: the message's size, header included. */
ssize_t
imsg_get(struct imsgbuf *imsgbuf, struct imsg *imsg)
{
	int	 rv;

	if ((rv = imsgbuf_get(imsgbuf, imsg)) != 1)
		return (rv);
	return (imsg->hdr.len);
}

struct ibuf *
imsg_create(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id, pid_t pid,
    size_t datalen)
{
	struct ibuf	*buf;
	struct imsg_hdr	 hdr;

	if (datalen > imsgbuf->maxsize - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return (NULL);
	}
	if ((buf = ibuf_dynamic(IMSG_HEADER_SIZE + datalen,
	    imsgbuf->maxsize)) == NULL)
		return (NULL);
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.peerid = id;
	hdr.pid = pid != 0 ? (uint32_t)pid : (uint32_t)imsgbuf->pid;
	if (ibuf_add(buf, &hdr, sizeof(hdr)) == -1) {
		ibuf_free(buf);
		return (NULL);
	}
	return (buf);
}

/* Append to a message; on failure the message is freed. */
int
imsg_add(struct ibuf *buf, const void *data, size_t len)
{
	if (buf == NULL)
		return (-1);
	if (len > 0 && ibuf_add(buf, data, len) == -1) {
		ibuf_free(buf);
		return (-1);
	}
	return ((int)len);
}

/* Seal the message's length and queue it for writing. */
void
imsg_close(struct imsgbuf *imsgbuf, struct ibuf *buf)
{
	struct imsg_hdr	*hdr;

	if (buf == NULL)
		return;
	if (imsgbuf->w == NULL) {
		/* Cleared: nothing will ever write it. */
		ibuf_free(buf);
		return;
	}
	hdr = (struct imsg_hdr *)buf->buf;
	hdr->len = buf->wpos;
	if (buf->fd != -1)
		hdr->len |= IMSG_FD_MARK;
	TAILQ_INSERT_TAIL(&imsgbuf->w->mb_out, buf, entry);
	imsgbuf->w->mb_queued++;
}

/*
 * The compose functions queue a message and return 1, or return -1; fd
 * (-1 for none) belongs to the message from the call on, and is closed
 * if the message cannot be queued.
 */
int
imsg_compose(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id, pid_t pid,
    int fd, const void *data, size_t datalen)
{
	struct iovec	 iov;

	iov.iov_base = (void *)data;
	iov.iov_len = datalen;
	return (imsg_composev(imsgbuf, type, id, pid, fd, &iov,
	    datalen > 0 ? 1 : 0));
}

int
imsg_composev(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id,
    pid_t pid, int fd, const struct iovec *iov, int iovcnt)
{
	struct ibuf	*buf;
	size_t		 len = 0;
	int		 i;

	if (imsgbuf->w == NULL) {
		errno = EBADF;
		goto fail;
	}
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > imsgbuf->maxsize - len) {
			errno = ERANGE;
			goto fail;
		}
		len += iov[i].iov_len;
	}
	if ((buf = imsg_create(imsgbuf, type, id, pid, len)) == NULL)
		goto fail;
	for (i = 0; i < iovcnt; i++)
		if (imsg_add(buf, iov[i].iov_base, iov[i].iov_len) == -1)
			goto fail;
	buf->fd = fd;
	imsg_close(imsgbuf, buf);
	return (1);

 fail:
	if (fd != -1)
		close(fd);
	return (-1);
}

/* Send the data and descriptor of buf, which is freed in any case. */
int
imsg_compose_ibuf(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id,
    pid_t pid, struct ibuf *buf)
{
	int	 fd, rv;

	if (buf == NULL) {
		errno = EINVAL;
		return (-1);
	}
	fd = ibuf_fd_get(buf);
	rv = imsg_compose(imsgbuf, type, id, pid, fd, ibuf_data(buf),
	    ibuf_size(buf));
	ibuf_free(buf);
	return (rv);
}

/* Pass a message on whole, its descriptor included. */
int
imsg_forward(struct imsgbuf *imsgbuf, struct imsg *imsg)
{
	struct ibuf	*buf = imsg->buf;
	size_t		 len;

	if (buf == NULL) {
		errno = EBADMSG;
		return (-1);
	}
	len = buf->wpos - IMSG_HEADER_SIZE;
	return (imsg_compose(imsgbuf, imsg->hdr.type, imsg->hdr.peerid,
	    imsg->hdr.pid, ibuf_fd_get(buf),
	    len > 0 ? buf->buf + IMSG_HEADER_SIZE : NULL, len));
}

uint32_t
imsg_get_id(struct imsg *imsg)
{
	return (imsg->hdr.peerid);
}

uint32_t
imsg_get_type(struct imsg *imsg)
{
	return (imsg->hdr.type);
}

pid_t
imsg_get_pid(struct imsg *imsg)
{
	return (imsg->hdr.pid);
}

/* The length of the data not yet read from the message. */
size_t
imsg_get_len(struct imsg *imsg)
{
	if (imsg->buf == NULL)
		return (0);
	return (ibuf_size(imsg->buf));
}

/* Take the message's descriptor, -1 if none: the caller closes it. */
int
imsg_get_fd(struct imsg *imsg)
{
	if (imsg->buf == NULL)
		return (-1);
	return (ibuf_fd_get(imsg->buf));
}

/* Exactly len bytes of data, the whole message; else EBADMSG. */
int
imsg_get_data(struct imsg *imsg, void *data, size_t len)
{
	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (imsg->buf == NULL || ibuf_size(imsg->buf) != len) {
		errno = EBADMSG;
		return (-1);
	}
	return (ibuf_get(imsg->buf, data, len));
}

/* The next len bytes of data. */
int
imsg_get_buf(struct imsg *imsg, void *data, size_t len)
{
	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (imsg->buf == NULL) {
		errno = EBADMSG;
		return (-1);
	}
	return (ibuf_get(imsg->buf, data, len));
}

/* A view of the rest of the data, valid until imsg_free(). */
int
imsg_get_ibuf(struct imsg *imsg, struct ibuf *buf)
{
	if (imsg->buf == NULL) {
		errno = EBADMSG;
		return (-1);
	}
	return (ibuf_get_ibuf(imsg->buf, ibuf_size(imsg->buf), buf));
}

/*
 * The rest of the data as one string: it must end with its only NUL
 * (EBADMSG otherwise) and fit in len bytes (EOVERFLOW otherwise).
 */
int
imsg_get_strbuf(struct imsg *imsg, char *str, size_t len)
{
	const char	*p;
	size_t		 size;

	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (imsg->buf == NULL || (size = ibuf_size(imsg->buf)) == 0) {
		errno = EBADMSG;
		return (-1);
	}
	p = ibuf_data(imsg->buf);
	if (memchr(p, '\0', size) != p + size - 1) {
		errno = EBADMSG;
		return (-1);
	}
	if (size > len) {
		errno = EOVERFLOW;
		return (-1);
	}
	return (ibuf_get(imsg->buf, str, size));
}

void
imsg_free(struct imsg *imsg)
{
	ibuf_free(imsg->buf);
	imsg->buf = NULL;
	imsg->data = NULL;
}
