/*
 * Hashing: the digests of a download as its bytes arrive, and of a
 * file on disk in slices that leave the event loop free between them,
 * so that verifying a large image never stalls the channel to castrad.
 */

#include <sys/types.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "imgd.h"
#include "log.h"
#include "state.h"

#define HASHJOB_SLICE	4	/* chunks between two turns of the loop */

struct hashjob {
	int		 hj_in;
	int		 hj_out;	/* -1: hash only */
	struct verify	*hj_verify;
	hashjob_step_cb	*hj_step;	/* after each slice, or NULL */
	hashjob_cb	*hj_cb;
	void		*hj_arg;
	struct event	 hj_ev;
	unsigned char	*hj_buf;
};

static void	hashjob_step(int, short, void *);

static void
verify_hex(const unsigned char *md, unsigned int len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned int		 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* Start over; 0, or -1 when OpenSSL is out of memory. */
int
verify_init(struct verify *v, int want512)
{
	if (v->v_sha256 == NULL && (v->v_sha256 = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (want512 && v->v_sha512 == NULL &&
	    (v->v_sha512 = EVP_MD_CTX_new()) == NULL)
		return (-1);
	v->v_want512 = want512;
	v->v_len = 0;
	memset(v->v_head, 0, sizeof(v->v_head));
	if (EVP_DigestInit_ex(v->v_sha256, EVP_sha256(), NULL) != 1 ||
	    (want512 &&
	    EVP_DigestInit_ex(v->v_sha512, EVP_sha512(), NULL) != 1))
		return (-1);
	return (0);
}

void
verify_free(struct verify *v)
{
	EVP_MD_CTX_free(v->v_sha256);
	EVP_MD_CTX_free(v->v_sha512);
	v->v_sha256 = v->v_sha512 = NULL;
}

void
verify_update(struct verify *v, const void *buf, size_t len)
{
	size_t	 n;

	if (v->v_len < sizeof(v->v_head)) {
		n = sizeof(v->v_head) - v->v_len;
		if (n > len)
			n = len;
		memcpy(v->v_head + v->v_len, buf, n);
	}
	EVP_DigestUpdate(v->v_sha256, buf, len);
	if (v->v_want512)
		EVP_DigestUpdate(v->v_sha512, buf, len);
	v->v_len += len;
}

/* The hex digests; sha512 is "" unless it was asked for. */
void
verify_end(struct verify *v, char *sha256, char *sha512)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 len;

	EVP_DigestFinal_ex(v->v_sha256, md, &len);
	verify_hex(md, len, sha256);
	if (v->v_want512) {
		EVP_DigestFinal_ex(v->v_sha512, md, &len);
		verify_hex(md, len, sha512);
	} else if (sha512 != NULL)
		sha512[0] = '\0';
}

/* Hash what is left of fd, in one go; for castra image and bench. */
int
verify_fd(int fd, struct verify *v)
{
	unsigned char	*buf;
	ssize_t		 n;

	if ((buf = malloc(IMGD_CHUNK)) == NULL)
		return (-1);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while ((n = read(fd, buf, IMGD_CHUNK)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return (-1);
		}
		verify_update(v, buf, n);
	}
	free(buf);
	return (0);
}

/*
 * Read in from where it stands to its end, hashing every byte and, if
 * out is not -1, copying it there.  step(arg, verify), if not NULL,
 * runs after each slice; cb(arg, 0 or errno, verify) runs once at the
 * end.  The descriptors stay the caller's.
 */
struct hashjob *
hashjob_start(int in, int out, struct verify *v, hashjob_step_cb *step,
    hashjob_cb *cb, void *arg)
{
	struct hashjob	*hj;
	struct timeval	 tv = { 0, 0 };

	if ((hj = calloc(1, sizeof(*hj))) == NULL)
		return (NULL);
	if ((hj->hj_buf = malloc(IMGD_CHUNK)) == NULL) {
		free(hj);
		return (NULL);
	}
	hj->hj_in = in;
	hj->hj_out = out;
	hj->hj_verify = v;
	hj->hj_step = step;
	hj->hj_cb = cb;
	hj->hj_arg = arg;
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	evtimer_set(&hj->hj_ev, hashjob_step, hj);
	evtimer_add(&hj->hj_ev, &tv);
	return (hj);
}

void
hashjob_cancel(struct hashjob *hj)
{
	if (hj == NULL)
		return;
	evtimer_del(&hj->hj_ev);
	free(hj->hj_buf);
	free(hj);
}

static void
hashjob_finish(struct hashjob *hj, int error)
{
	hashjob_cb	*cb = hj->hj_cb;
	void		*arg = hj->hj_arg;
	struct verify	*v = hj->hj_verify;

	hashjob_cancel(hj);
	cb(arg, error, v);
}

static void
hashjob_step(int fd, short event, void *arg)
{
	struct hashjob	*hj = arg;
	struct timeval	 tv = { 0, 0 };
	ssize_t		 n;
	int		 i;

	for (i = 0; i < HASHJOB_SLICE; i++) {
		if ((n = read(hj->hj_in, hj->hj_buf, IMGD_CHUNK)) == -1) {
			if (errno == EINTR)
				continue;
			hashjob_finish(hj, errno);
			return;
		}
		if (n == 0) {
			hashjob_finish(hj, 0);
			return;
		}
		verify_update(hj->hj_verify, hj->hj_buf, n);
		if (hj->hj_out != -1 &&
		    state_write_all(hj->hj_out, hj->hj_buf, n) == -1) {
			hashjob_finish(hj, errno);
			return;
		}
	}
	if (hj->hj_step != NULL)
		hj->hj_step(hj->hj_arg, hj->hj_verify);
	evtimer_add(&hj->hj_ev, &tv);
}
