/*
 * Raw imsg bytes on a socket, for the tests that must send what the
 * imsg API would never write: any header, any length, a descriptor
 * that no header claims, or two where one is claimed.
 */

#ifndef CASTRA_RAWIMSG_H
#define CASTRA_RAWIMSG_H

#include <sys/types.h>

#include <stdint.h>

/* The top bit of a header's length: a descriptor comes with it. */
#define RAWIMSG_FD_MARK		0x80000000U

ssize_t	rawimsg_bytes(int, const void *, size_t, const void *, size_t,
	    const int *, size_t);
ssize_t	rawimsg_send(int, uint32_t, uint32_t, const void *, size_t, int);

#endif /* CASTRA_RAWIMSG_H */
