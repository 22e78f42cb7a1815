/*
 * What the fuzz targets share: the entry point libFuzzer calls, the
 * checks that abort on a broken invariant, a check that no descriptor
 * leaked, and an imsg channel over a real socketpair on which messages
 * are composed, or raw bytes written, and read as the daemons read
 * them.  fuzz.c holds the functions; a target that calls them links
 * fuzz/fuzz.c and regress/rawimsg.c.
 */

#ifndef CASTRA_FUZZ_H
#define CASTRA_FUZZ_H

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imsg.h"

/* A field holds a terminated string. */
#define ENDS(s)		(memchr((s), '\0', sizeof(s)) != NULL)
#define CHECK(cond)	do { if (!(cond)) abort(); } while (0)

/* The largest payload that one imsg carries. */
#define FUZZ_PAYLOAD_MAX	(MAX_IMSGSIZE - IMSG_HEADER_SIZE)

/* A message type and the size of the struct it carries. */
struct fuzz_kind {
	uint32_t	 fk_type;
	size_t		 fk_size;
};

/* Two imsgbufs on the ends of one socketpair: out writes, in reads. */
struct fuzz_chan {
	struct imsgbuf	 fc_out;
	struct imsgbuf	 fc_in;
	int		 fc_sp[2];
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz.c */
void		 fuzz_fds_save(void);
void		 fuzz_fds_check(void);
const void	*fuzz_payload(const uint8_t *, size_t, size_t);
void		 fuzz_chan_open(struct fuzz_chan *, int);
void		 fuzz_chan_pass(struct fuzz_chan *, uint32_t, int, const void *,
		    size_t, struct imsg *);
void		 fuzz_chan_close(struct fuzz_chan *);
const struct fuzz_kind
		*fuzz_kind_open(struct fuzz_chan *, struct imsg *,
		    const struct fuzz_kind *, size_t, const uint8_t *, size_t);
void		 fuzz_kind_close(struct fuzz_chan *, struct imsg *);
ssize_t		 fuzz_send(int, const void *, size_t, int);

#endif /* CASTRA_FUZZ_H */
