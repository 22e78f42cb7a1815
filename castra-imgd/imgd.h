/*
 * castra-imgd(8): the image cache.  It fetches artifacts over http(s),
 * imports descriptors that castra opened as the user, verifies every
 * byte against its digests and stores each image once, by content,
 * under $CASTRA_HOME/images.
 */

#ifndef CASTRA_IMGD_H
#define CASTRA_IMGD_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>

#include "imgmeta.h"
#include "proto.h"

#define IMGD_SHA256_DIR		"sha256"
#define IMGD_PARTIAL_DIR	"partial"
#define IMGD_CHUNK		(1024 * 1024)	/* one read or write */
#define IMGD_CONNECT_TIMEOUT	15	/* seconds */
#define IMGD_STALL_TIMEOUT	30
#define IMGD_RETRIES		3	/* attempts per mirror */
#define IMGD_BACKOFF_MS		1000	/* before the first retry */
#define IMGD_PROGRESS_MS	200	/* between progress events */
#define IMGD_LOCAL_URL		"local image"	/* progress of an import */

struct imgd_conf {
	uint32_t	 ic_connect_timeout;
	uint32_t	 ic_stall_timeout;
	uint32_t	 ic_retries;
	uint32_t	 ic_backoff_ms;
};

extern struct imgd_conf	 imgd_conf;
extern int		 imgd_dirfd;	/* the images directory */

/*
 * verify.c: the digests of a stream of bytes.  OpenSSL's, not libmd's:
 * they use the CPU's SHA instructions, and verifying a cached image
 * must keep up with sha256sum(1).  Zero a struct verify before its
 * first verify_init; verify_free releases it.
 */
struct evp_md_ctx_st;
struct verify {
	struct evp_md_ctx_st	*v_sha256;
	struct evp_md_ctx_st	*v_sha512;
	int		 v_want512;
	uint64_t	 v_len;
	unsigned char	 v_head[8];	/* to tell the format */
};

struct hashjob;
typedef void	 hashjob_cb(void *, int, struct verify *);
typedef void	 hashjob_step_cb(void *, struct verify *);

int		 verify_init(struct verify *, int);
void		 verify_free(struct verify *);
void		 verify_update(struct verify *, const void *, size_t);
void		 verify_end(struct verify *, char *, char *);
int		 verify_fd(int, struct verify *);
struct hashjob	*hashjob_start(int, int, struct verify *, hashjob_step_cb *,
		    hashjob_cb *, void *);
void		 hashjob_cancel(struct hashjob *);

/* cache.c: the store on disk */
int		 cache_init(void);
int		 cache_meta_read(const char *, struct imgmeta *);
int		 cache_meta_write(const struct imgmeta *);
int		 cache_find_sha512(const char *, char *);
int		 cache_open(const char *, uint64_t *);
int		 cache_is_verified(const char *, int);
void		 cache_set_verified(const char *, int);
void		 cache_forget(const char *);
int		 cache_commit(const char *, const struct imgmeta *);
void		 cache_touch(const char *);
int		 cache_partial_open(const char *, int);
void		 cache_partial_remove(const char *);
void		 cache_hold(const char *, int);
int		 cache_held(const char *);
int		 cache_remove(const char *, uint64_t *);
int		 cache_prune(uint64_t, uint64_t, uint32_t *, uint64_t *,
		    uint32_t *);

/* fetch.c: downloads with libcurl under libevent */
struct fetch;
struct fetch_ops {
	void	(*fo_data)(void *, const void *, size_t, int *);
	void	(*fo_restart)(void *);
	void	(*fo_done)(void *, int, const char *);
};
#define FETCH_OK	0
#define FETCH_RETRY	1	/* worth trying the same mirror again */
#define FETCH_FATAL	2	/* try the next mirror */
#define FETCH_ABORT	3	/* give up on every mirror */

int		 fetch_init(void);
struct fetch	*fetch_start(const char *, uint64_t, const struct fetch_ops *,
		    void *);
void		 fetch_cancel(struct fetch *);
uint64_t	 fetch_expected(struct fetch *);

/* imgd.c */
void		 imgd_progress(uint32_t, uint64_t, uint64_t, const char *);

#endif /* CASTRA_IMGD_H */
