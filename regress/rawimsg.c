/*
 * Raw imsg bytes on a socket; see rawimsg.h.  Each returns what
 * sendmsg(2) did, and the callers, tests, judge it their own way: a
 * peer may well close in the middle of a hostile message.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "rawimsg.h"

#define RAWIMSG_FDS_MAX		2

/* Write head and then data in one sendmsg(2), with nfds descriptors. */
ssize_t
rawimsg_bytes(int sock, const void *head, size_t headlen, const void *data,
    size_t datalen, const int *fds, size_t nfds)
{
	struct msghdr	 msg;
	struct iovec	 iov[2];
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(RAWIMSG_FDS_MAX * sizeof(int))];
	} cmsgbuf;

	if (nfds > RAWIMSG_FDS_MAX) {
		errno = EINVAL;
		return (-1);
	}
	memset(&msg, 0, sizeof(msg));
	iov[0].iov_base = (void *)head;
	iov[0].iov_len = headlen;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = datalen;
	msg.msg_iov = iov;
	msg.msg_iovlen = datalen > 0 ? 2 : 1;
	if (nfds > 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	/* A peer that closed first is an outcome to report, not a signal. */
	return (sendmsg(sock, &msg, MSG_NOSIGNAL));
}

/*
 * A header of this type and length, whatever the data really is, then
 * the data, with descriptor fd unless it is -1.
 */
ssize_t
rawimsg_send(int sock, uint32_t type, uint32_t len, const void *data,
    size_t datalen, int fd)
{
	struct imsg_hdr	 hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = len;
	hdr.pid = getpid();
	return (rawimsg_bytes(sock, &hdr, sizeof(hdr), data, datalen, &fd,
	    fd == -1 ? 0 : 1));
}
