/*
 * castra-imgd(8): one verified, content-addressed image cache for all
 * of castrad's projects.
 *
 * castrad asks for an artifact (mirrors and digests) or hands over a
 * descriptor of a local file; imgd answers with the sha256 under which
 * the verified bytes sit in images/sha256/.  One job serves every
 * request for the same digest, so two projects asking at once cause
 * one download.  A cached image is hashed again the first time it is
 * asked for in each run of imgd, and again whenever its inode, size,
 * mtime or ctime changed since: a damaged file is fetched anew, never
 * handed to a VM.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "imgd.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"

#define JOB_KEY_MAX	(8 + SHA512_HEX_LEN + 1)

struct waiter {
	TAILQ_ENTRY(waiter)	 w_entry;
	uint32_t		 w_id;
};
TAILQ_HEAD(waiters, waiter);

struct job {
	TAILQ_ENTRY(job)	 j_entry;
	struct ctl_artifact	 j_art;
	char			 j_key[JOB_KEY_MAX];	/* partial/<key> */
	struct waiters		 j_waiters;
	int			 j_import;
	int			 j_fd;		/* partial or cached file */
	int			 j_srcfd;	/* import: the user's file */
	char			 j_sha256[SHA256_HEX_LEN + 1];
	struct verify		 j_verify;
	struct hashjob		*j_hash;
	struct fetch		*j_fetch;
	uint32_t		 j_url;		/* mirror being tried */
	uint32_t		 j_attempt;
	uint64_t		 j_total;	/* expected bytes, 0: unknown */
	int64_t			 j_progress_ms;
	struct event		 j_retry_ev;
	char			 j_errors[CTL_TEXT_MAX];
};
static TAILQ_HEAD(, job)	 jobs = TAILQ_HEAD_INITIALIZER(jobs);

struct imgd_conf	 imgd_conf;
int			 imgd_dirfd = -1;
static uint32_t		 imgd_nimports;

static void	job_lookup(struct job *);
static void	job_import(struct job *);
static void	job_download(struct job *);
static void	job_attempt(struct job *);
static void	job_retry_cb(int, short, void *);
static void	job_next_mirror(struct job *, const char *);
static void	job_fail(struct job *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	job_data(void *, const void *, size_t, int *);
static void	job_restart(void *);
static void	job_fetched(void *, int, const char *);

static const struct fetch_ops job_fetch_ops = {
	job_data, job_restart, job_fetched
};

static int64_t
imgd_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
imgd_progress(uint32_t id, uint64_t done, uint64_t total, const char *url)
{
	struct img_progress	 ip;

	memset(&ip, 0, sizeof(ip));
	ip.ip_id = id;
	ip.ip_done = done;
	ip.ip_total = total;
	strlcpy(ip.ip_url, url, sizeof(ip.ip_url));
	proc_parent_compose(IMSG_IMG_PROGRESS_EVENT, 0, -1, &ip, sizeof(ip));
}

static struct job *
job_new(const struct ctl_artifact *art)
{
	struct job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return (NULL);
	j->j_art = *art;
	j->j_fd = j->j_srcfd = -1;
	j->j_total = art->ca_size;
	TAILQ_INIT(&j->j_waiters);
	evtimer_set(&j->j_retry_ev, job_retry_cb, j);
	TAILQ_INSERT_TAIL(&jobs, j, j_entry);
	return (j);
}

static int
job_wait(struct job *j, uint32_t id)
{
	struct waiter	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (-1);
	w->w_id = id;
	TAILQ_INSERT_TAIL(&j->j_waiters, w, w_entry);
	return (0);
}

static void
job_free(struct job *j)
{
	struct waiter	*w;

	while ((w = TAILQ_FIRST(&j->j_waiters)) != NULL) {
		TAILQ_REMOVE(&j->j_waiters, w, w_entry);
		free(w);
	}
	evtimer_del(&j->j_retry_ev);
	hashjob_cancel(j->j_hash);
	fetch_cancel(j->j_fetch);
	verify_free(&j->j_verify);
	if (j->j_fd != -1)
		close(j->j_fd);
	if (j->j_srcfd != -1)
		close(j->j_srcfd);
	TAILQ_REMOVE(&jobs, j, j_entry);
	free(j);
}

static void
job_ready(struct job *j, const char *sha256, uint64_t size, int fetched)
{
	struct img_ready	 ir;
	struct waiter		*w;

	cache_touch(sha256);
	TAILQ_FOREACH(w, &j->j_waiters, w_entry) {
		memset(&ir, 0, sizeof(ir));
		ir.ir_id = w->w_id;
		strlcpy(ir.ir_sha256, sha256, sizeof(ir.ir_sha256));
		ir.ir_size = size;
		ir.ir_fetched = fetched;
		proc_parent_compose(IMSG_IMG_READY_RESPONSE, 0, -1, &ir,
		    sizeof(ir));
	}
	job_free(j);
}

static void
job_fail(struct job *j, const char *fmt, ...)
{
	struct img_fail	 fl;
	struct waiter	*w;
	va_list		 ap;

	memset(&fl, 0, sizeof(fl));
	va_start(ap, fmt);
	vsnprintf(fl.if_message, sizeof(fl.if_message), fmt, ap);
	va_end(ap);
	log_warnx("%s", fl.if_message);
	/* An empty partial file is no download to resume. */
	if (j->j_key[0] != '\0' && !j->j_import && j->j_fd != -1 &&
	    j->j_verify.v_len == 0)
		cache_partial_remove(j->j_key);
	TAILQ_FOREACH(w, &j->j_waiters, w_entry) {
		fl.if_id = w->w_id;
		proc_parent_compose(IMSG_IMG_FAIL_RESPONSE, 0, -1, &fl,
		    sizeof(fl));
	}
	job_free(j);
}

/* Progress to every waiter, at most every IMGD_PROGRESS_MS. */
static void
job_progress(struct job *j, const char *url, int force)
{
	struct waiter	*w;
	int64_t		 now = imgd_now_ms();

	if (!force && now - j->j_progress_ms < IMGD_PROGRESS_MS)
		return;
	j->j_progress_ms = now;
	TAILQ_FOREACH(w, &j->j_waiters, w_entry)
		imgd_progress(w->w_id, j->j_verify.v_len, j->j_total, url);
}

/* A request for the same digest joins the job that is already on it. */
static struct job *
job_find(const struct ctl_artifact *art)
{
	struct job	*j;

	TAILQ_FOREACH(j, &jobs, j_entry) {
		if (j->j_import)
			continue;
		if (art->ca_sha256[0] != '\0' &&
		    strcmp(art->ca_sha256, j->j_art.ca_sha256) == 0)
			return (j);
		if (art->ca_sha512[0] != '\0' &&
		    strcmp(art->ca_sha512, j->j_art.ca_sha512) == 0)
			return (j);
	}
	return (NULL);
}

/*
 * A request that joins a job brings its own mirrors: those the job does
 * not know yet are tried after the job's own, and its digests, if the
 * job lacks one, are checked too.
 */
static void
job_merge(struct job *j, const struct ctl_artifact *art)
{
	struct ctl_artifact	*ja = &j->j_art;
	uint32_t		 i, k;

	for (i = 0; i < art->ca_nurls && ja->ca_nurls < CONFIG_URLS_MAX;
	    i++) {
		for (k = 0; k < ja->ca_nurls; k++)
			if (strcmp(ja->ca_urls[k], art->ca_urls[i]) == 0)
				break;
		if (k == ja->ca_nurls)
			strlcpy(ja->ca_urls[ja->ca_nurls++], art->ca_urls[i],
			    sizeof(ja->ca_urls[0]));
	}
	if (ja->ca_sha256[0] == '\0')
		strlcpy(ja->ca_sha256, art->ca_sha256, sizeof(ja->ca_sha256));
	if (ja->ca_sha512[0] == '\0')
		strlcpy(ja->ca_sha512, art->ca_sha512, sizeof(ja->ca_sha512));
	if (ja->ca_size == 0)
		ja->ca_size = art->ca_size;
}

/* Which digest of the bytes does not match the artifact, if any. */
static int
job_mismatch(const struct ctl_artifact *art, struct verify *v,
    const char *sha256, const char *sha512, char *msg, size_t len)
{
	if (art->ca_size != 0 && v->v_len != art->ca_size) {
		snprintf(msg, len, "size mismatch: expected %llu bytes, got "
		    "%llu", (unsigned long long)art->ca_size,
		    (unsigned long long)v->v_len);
		return (1);
	}
	if (art->ca_sha256[0] != '\0' && strcmp(art->ca_sha256, sha256)) {
		snprintf(msg, len, "sha256 mismatch: expected %s, got %s",
		    art->ca_sha256, sha256);
		return (1);
	}
	if (art->ca_sha512[0] != '\0' && strcmp(art->ca_sha512, sha512)) {
		snprintf(msg, len, "sha512 mismatch: expected %s, got %s",
		    art->ca_sha512, sha512);
		return (1);
	}
	return (0);
}

/*
 * Store the partial file of j under its sha256; 0, or -1 when the job
 * has failed and the partial file is gone.
 */
static int
job_commit(struct job *j, const char *sha256, const char *sha512)
{
	struct imgmeta	 mt;
	uint32_t	 i;

	memset(&mt, 0, sizeof(mt));
	if (cache_meta_read(sha256, &mt) == -1)
		memset(&mt, 0, sizeof(mt));
	for (i = 0; i < j->j_art.ca_nurls && mt.mt_nurls < CONFIG_URLS_MAX;
	    i++)
		strlcpy(mt.mt_urls[mt.mt_nurls++], j->j_art.ca_urls[i],
		    sizeof(mt.mt_urls[0]));
	mt.mt_size = j->j_verify.v_len;
	strlcpy(mt.mt_sha256, sha256, sizeof(mt.mt_sha256));
	strlcpy(mt.mt_sha512, sha512, sizeof(mt.mt_sha512));
	strlcpy(mt.mt_format, imgmeta_sniff(j->j_verify.v_head,
	    j->j_verify.v_len < sizeof(j->j_verify.v_head) ?
	    j->j_verify.v_len : sizeof(j->j_verify.v_head)),
	    sizeof(mt.mt_format));
	mt.mt_fetched_at = mt.mt_last_used_at = time(NULL);
	if (fsync(j->j_fd) == -1 || fchmod(j->j_fd, 0444) == -1 ||
	    cache_commit(j->j_key, &mt) == -1) {
		cache_partial_remove(j->j_key);
		job_fail(j, "images/sha256/%s: %s", sha256, strerror(errno));
		return (-1);
	}
	cache_set_verified(sha256, j->j_fd);
	return (0);
}

/* The bytes of a cached image were hashed: still what they were? */
static void
job_verified(void *arg, int error, struct verify *v)
{
	struct job	*j = arg;
	char		 sha256[SHA256_HEX_LEN + 1];
	char		 path[128];

	j->j_hash = NULL;
	verify_end(v, sha256, NULL);
	if (error == 0 && strcmp(sha256, j->j_sha256) == 0) {
		cache_set_verified(j->j_sha256, j->j_fd);
		job_ready(j, j->j_sha256, v->v_len, 0);
		return;
	}
	if (error != 0)
		log_warnx("images/sha256/%s: %s; fetching it again",
		    j->j_sha256, strerror(error));
	else
		log_warnx("images/sha256/%s: damaged, its bytes hash to %s; "
		    "fetching it again", j->j_sha256, sha256);
	/* Gone even if a VM holds it: that VM has its descriptor. */
	snprintf(path, sizeof(path), "%s/%s", IMGD_SHA256_DIR, j->j_sha256);
	unlinkat(imgd_dirfd, path, 0);
	cache_forget(j->j_sha256);
	close(j->j_fd);
	j->j_fd = -1;
	job_download(j);
}

/*
 * Hash in from where it stands, copying it to out unless that is -1,
 * with sha512 too if want512, then cb.  -1 with errno if it cannot
 * start.
 */
static int
job_hash(struct job *j, int in, int out, int want512, hashjob_step_cb *step,
    hashjob_cb *cb)
{
	if (verify_init(&j->j_verify, want512) == -1) {
		errno = ENOMEM;
		return (-1);
	}
	if ((j->j_hash = hashjob_start(in, out, &j->j_verify, step, cb,
	    j)) == NULL)
		return (-1);
	return (0);
}

/* Look in the cache first; hash what is there unless it was checked. */
static void
job_lookup(struct job *j)
{
	struct imgmeta	 mt;
	uint64_t	 size;

	if (j->j_art.ca_sha256[0] != '\0')
		strlcpy(j->j_sha256, j->j_art.ca_sha256, sizeof(j->j_sha256));
	else if (cache_find_sha512(j->j_art.ca_sha512, j->j_sha256) == -1) {
		job_download(j);
		return;
	}
	if ((j->j_fd = cache_open(j->j_sha256, &size)) == -1) {
		if (errno != ENOENT)
			log_warn("images/sha256/%s", j->j_sha256);
		job_download(j);
		return;
	}
	if ((j->j_art.ca_size != 0 && size != j->j_art.ca_size) ||
	    (cache_meta_read(j->j_sha256, &mt) == 0 && mt.mt_size != size))
		log_warnx("images/sha256/%s: %llu bytes, not what was "
		    "stored", j->j_sha256, (unsigned long long)size);
	else if (cache_is_verified(j->j_sha256, j->j_fd)) {
		job_ready(j, j->j_sha256, size, 0);
		return;
	}
	if (job_hash(j, j->j_fd, -1, 0, NULL, job_verified) == -1)
		job_fail(j, "images/sha256/%s: %s", j->j_sha256,
		    strerror(errno));
}

/* What an earlier, interrupted download left: hashed, then resumed. */
static void
job_resumed(void *arg, int error, struct verify *v)
{
	struct job	*j = arg;

	j->j_hash = NULL;
	if (error != 0) {
		job_fail(j, "images/partial/%s: %s", j->j_key,
		    strerror(error));
		return;
	}
	log_debug("%s: %s: resuming at %llu bytes", __func__, j->j_key,
	    (unsigned long long)v->v_len);
	job_attempt(j);
}

static void
job_download(struct job *j)
{
	struct stat	 st;

	if (j->j_srcfd != -1) {
		job_import(j);
		return;
	}
	if (j->j_art.ca_nurls == 0) {
		job_fail(j, "image %s is not cached and has no url to fetch "
		    "it from", j->j_art.ca_sha256[0] != '\0' ?
		    j->j_art.ca_sha256 : j->j_art.ca_sha512);
		return;
	}
	if (j->j_art.ca_sha256[0] != '\0')
		strlcpy(j->j_key, j->j_art.ca_sha256, sizeof(j->j_key));
	else
		snprintf(j->j_key, sizeof(j->j_key), "sha512-%s",
		    j->j_art.ca_sha512);
	if ((j->j_fd = cache_partial_open(j->j_key, 0)) == -1 ||
	    fstat(j->j_fd, &st) == -1) {
		job_fail(j, "images/partial/%s: %s", j->j_key,
		    strerror(errno));
		return;
	}
	if (st.st_size == 0 || (j->j_art.ca_size != 0 &&
	    (uint64_t)st.st_size > j->j_art.ca_size)) {
		job_restart(j);
		job_attempt(j);
		return;
	}
	if (job_hash(j, j->j_fd, -1, 1, NULL, job_resumed) == -1)
		job_fail(j, "images/partial/%s: %s", j->j_key,
		    strerror(errno));
}

static void
job_attempt(struct job *j)
{
	const char	*url = j->j_art.ca_urls[j->j_url];

	log_info("fetching %s%s", url, j->j_verify.v_len > 0 ?
	    ", resuming" : "");
	if ((j->j_fetch = fetch_start(url, j->j_verify.v_len,
	    &job_fetch_ops, j)) == NULL) {
		job_next_mirror(j, "libcurl cannot start a transfer");
		return;
	}
	job_progress(j, url, 1);
}

static void
job_retry_cb(int fd, short event, void *arg)
{
	job_attempt(arg);
}

static void
job_data(void *arg, const void *buf, size_t len, int *error)
{
	struct job	*j = arg;
	const char	*p = buf;
	size_t		 left = len;
	ssize_t		 n;

	if (j->j_art.ca_size != 0 &&
	    j->j_verify.v_len + len > j->j_art.ca_size) {
		*error = EFBIG;
		return;
	}
	while (left > 0) {
		if ((n = write(j->j_fd, p, left)) == -1) {
			if (errno == EINTR)
				continue;
			*error = errno;
			/* Keep only what was hashed: resumable. */
			if (ftruncate(j->j_fd, j->j_verify.v_len) == -1)
				log_warn("images/partial/%s", j->j_key);
			return;
		}
		p += n;
		left -= n;
	}
	verify_update(&j->j_verify, buf, len);
	if (j->j_total == 0 && j->j_fetch != NULL)
		j->j_total = fetch_expected(j->j_fetch);
	job_progress(j, j->j_art.ca_urls[j->j_url], 0);
}

/* Throw the partial bytes away and start again from zero. */
static void
job_restart(void *arg)
{
	struct job	*j = arg;

	if (ftruncate(j->j_fd, 0) == -1 || lseek(j->j_fd, 0, SEEK_SET) == -1)
		log_warn("images/partial/%s", j->j_key);
	if (verify_init(&j->j_verify, 1) == -1)
		fatalx("%s: out of memory", __func__);
}

static void
job_next_mirror(struct job *j, const char *why)
{
	const char	*url = j->j_art.ca_urls[j->j_url];
	size_t		 len = strlen(j->j_errors);

	log_warnx("%s: %s", url, why);
	snprintf(j->j_errors + len, sizeof(j->j_errors) - len, "%s%s: %s",
	    len > 0 ? "; " : "", url, why);
	j->j_attempt = 0;
	if (++j->j_url < j->j_art.ca_nurls) {
		job_attempt(j);
		return;
	}
	job_fail(j, "%s", j->j_errors);
}

static void
job_retry(struct job *j, const char *why)
{
	struct timeval	 tv;
	uint32_t	 ms;

	if (++j->j_attempt >= imgd_conf.ic_retries) {
		job_next_mirror(j, why);
		return;
	}
	ms = imgd_conf.ic_backoff_ms << (j->j_attempt - 1);
	log_info("%s: %s; retrying in %u ms", j->j_art.ca_urls[j->j_url],
	    why, ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&j->j_retry_ev, &tv);
}

static void
job_fetched(void *arg, int kind, const char *why)
{
	struct job	*j = arg;
	char		 sha256[SHA256_HEX_LEN + 1];
	char		 sha512[SHA512_HEX_LEN + 1], msg[CTL_TEXT_MAX];

	j->j_fetch = NULL;
	switch (kind) {
	case FETCH_RETRY:
		job_retry(j, why);
		return;
	case FETCH_FATAL:
		job_next_mirror(j, why);
		return;
	case FETCH_ABORT:
		/* A full disk: leave the cache as it was. */
		cache_partial_remove(j->j_key);
		job_fail(j, "%s: images/partial: %s",
		    j->j_art.ca_urls[j->j_url], why);
		return;
	}
	job_progress(j, j->j_art.ca_urls[j->j_url], 1);
	verify_end(&j->j_verify, sha256, sha512);
	if (job_mismatch(&j->j_art, &j->j_verify, sha256, sha512, msg,
	    sizeof(msg))) {
		job_restart(j);
		job_next_mirror(j, msg);
		return;
	}
	if (job_commit(j, sha256, sha512) == -1)
		return;
	log_info("cached %s from %s", sha256, j->j_art.ca_urls[j->j_url]);
	job_ready(j, sha256, j->j_verify.v_len, 1);
}

/* A local file was copied and hashed: store it by its content. */
static void
job_imported(void *arg, int error, struct verify *v)
{
	struct job	*j = arg;
	char		 sha256[SHA256_HEX_LEN + 1];
	char		 sha512[SHA512_HEX_LEN + 1], msg[CTL_TEXT_MAX];

	j->j_hash = NULL;
	if (error != 0) {
		cache_partial_remove(j->j_key);
		job_fail(j, "importing into images/partial: %s",
		    strerror(error));
		return;
	}
	verify_end(v, sha256, sha512);
	if (job_mismatch(&j->j_art, v, sha256, sha512, msg, sizeof(msg))) {
		cache_partial_remove(j->j_key);
		job_fail(j, "local image: %s", msg);
		return;
	}
	if (job_commit(j, sha256, sha512) == -1)
		return;
	job_progress(j, IMGD_LOCAL_URL, 1);
	log_info("imported %s, %llu bytes", sha256,
	    (unsigned long long)v->v_len);
	job_ready(j, sha256, v->v_len, 1);
}

static void
job_import_step(void *arg, struct verify *v)
{
	job_progress(arg, IMGD_LOCAL_URL, 0);
}

static void
job_import(struct job *j)
{
	struct stat	 st;
	int		 fd = j->j_srcfd;

	j->j_import = 1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		job_fail(j, "local image: not a regular file");
		return;
	}
	/*
	 * From the start, whatever the file's offset: castrad hands the
	 * same open file again to an imgd that replaces one killed in the
	 * middle of reading it, and the offset is shared.
	 */
	if (lseek(fd, 0, SEEK_SET) == -1) {
		job_fail(j, "local image: %s", strerror(errno));
		return;
	}
	j->j_total = st.st_size;
	snprintf(j->j_key, sizeof(j->j_key), "import-%d-%u", getpid(),
	    imgd_nimports++);
	if ((j->j_fd = cache_partial_open(j->j_key, 1)) == -1) {
		job_fail(j, "images/partial/%s: %s", j->j_key,
		    strerror(errno));
		return;
	}
	if (job_hash(j, fd, j->j_fd, 1, job_import_step, job_imported) == -1)
		job_fail(j, "local image: %s", strerror(errno));
}

static void
imgd_fail(uint32_t id, const char *msg)
{
	struct img_fail	 fl;

	memset(&fl, 0, sizeof(fl));
	fl.if_id = id;
	strlcpy(fl.if_message, msg, sizeof(fl.if_message));
	proc_parent_compose(IMSG_IMG_FAIL_RESPONSE, 0, -1, &fl, sizeof(fl));
}

static int
imgd_fetch_request(struct imsg *imsg)
{
	struct img_request	 ir;
	struct job		*j;
	int			 fd = imsg_get_fd(imsg);

	if (proto_read_img_request(imsg, &ir) == -1) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (fd == -1 && ir.ir_artifact.ca_sha256[0] == '\0' &&
	    ir.ir_artifact.ca_sha512[0] == '\0') {
		/* Nothing to check the bytes against: no cache entry. */
		imgd_fail(ir.ir_id, "image has no sha256 or sha512 to verify "
		    "it with; add one to the project file");
		return (0);
	}
	if (fd == -1 && (j = job_find(&ir.ir_artifact)) != NULL) {
		log_debug("%s: request %u joins a job", __func__, ir.ir_id);
		job_merge(j, &ir.ir_artifact);
		if (job_wait(j, ir.ir_id) == -1)
			imgd_fail(ir.ir_id, "out of memory");
		return (0);
	}
	if ((j = job_new(&ir.ir_artifact)) == NULL ||
	    job_wait(j, ir.ir_id) == -1) {
		if (j != NULL)
			job_free(j);
		if (fd != -1)
			close(fd);
		imgd_fail(ir.ir_id, "out of memory");
		return (0);
	}
	/*
	 * A local file with a digest is copied only if the cache lacks
	 * it: a project whose image is a file:// mirror comes up again
	 * without a copy.
	 */
	j->j_srcfd = fd;
	if (fd != -1 && ir.ir_artifact.ca_sha256[0] == '\0' &&
	    ir.ir_artifact.ca_sha512[0] == '\0')
		job_import(j);
	else
		job_lookup(j);
	return (0);
}

static int
imgd_config(struct imsg *imsg)
{
	struct img_config	 ic;

	if (proto_read_img_config(imsg, &ic) == -1)
		return (-1);
	imgd_conf.ic_connect_timeout = ic.ic_connect_timeout ?
	    ic.ic_connect_timeout : IMGD_CONNECT_TIMEOUT;
	imgd_conf.ic_stall_timeout = ic.ic_stall_timeout ?
	    ic.ic_stall_timeout : IMGD_STALL_TIMEOUT;
	imgd_conf.ic_retries = ic.ic_retries ? ic.ic_retries : IMGD_RETRIES;
	imgd_conf.ic_backoff_ms = ic.ic_backoff_ms ? ic.ic_backoff_ms :
	    IMGD_BACKOFF_MS;
	return (0);
}

static int
imgd_hold(struct imsg *imsg, int delta)
{
	struct img_hold	 ih;

	if (proto_read_img_hold(imsg, &ih) == -1)
		return (-1);
	cache_hold(ih.ih_sha256, delta);
	return (0);
}

/*
 * Partial files that no job is writing: kept for resuming, but not
 * forever.  Those older than age go (all of them when age is 0).
 */
static void
imgd_prune_partial(uint64_t age, uint64_t *bytes)
{
	struct dirent	*de;
	struct stat	 st;
	struct job	*j;
	DIR		*dir;
	time_t		 now = time(NULL);
	int		 fd;

	if ((fd = openat(imgd_dirfd, IMGD_PARTIAL_DIR, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		TAILQ_FOREACH(j, &jobs, j_entry)
			if (strcmp(j->j_key, de->d_name) == 0)
				break;
		if (j != NULL || (age > 0 && now - st.st_mtime < (time_t)age))
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0)
			*bytes += st.st_size;
	}
	closedir(dir);
}

static int
imgd_remove(struct imsg *imsg)
{
	struct img_remove	 im;
	struct img_removed	 rd;

	if (proto_read_img_remove(imsg, &im) == -1)
		return (-1);
	memset(&rd, 0, sizeof(rd));
	rd.id_id = im.im_id;
	if (im.im_sha256[0] == '\0') {
		if (cache_prune(im.im_age, im.im_size, &rd.id_count,
		    &rd.id_bytes, &rd.id_held) == -1)
			snprintf(rd.id_message, sizeof(rd.id_message),
			    "images/sha256: %s", strerror(errno));
		if (im.im_size == 0)
			imgd_prune_partial(im.im_age, &rd.id_bytes);
	} else if (cache_remove(im.im_sha256, &rd.id_bytes) == -1) {
		if (errno == EBUSY)
			rd.id_held = 1;
		snprintf(rd.id_message, sizeof(rd.id_message), "%s: %s",
		    im.im_sha256, errno == EBUSY ? "a running VM uses it" :
		    errno == ENOENT ? "not in the cache" : strerror(errno));
	} else {
		rd.id_count = 1;
		log_info("removed image %s", im.im_sha256);
	}
	proc_parent_compose(IMSG_IMG_REMOVE_RESPONSE, 0, -1, &rd,
	    sizeof(rd));
	return (0);
}

static int
imgd_dispatch(struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_IMG_FETCH_REQUEST:
		return (imgd_fetch_request(imsg));
	case IMSG_IMG_CONFIG:
		return (imgd_config(imsg));
	case IMSG_IMG_HOLD:
		return (imgd_hold(imsg, 1));
	case IMSG_IMG_RELEASE:
		return (imgd_hold(imsg, -1));
	case IMSG_IMG_REMOVE_REQUEST:
		return (imgd_remove(imsg));
	default:
		return (-1);
	}
}

/* Imports that a crash left behind cannot be resumed. */
static void
imgd_clean_partial(void)
{
	struct dirent	*de;
	DIR		*dir;
	int		 fd;

	if ((fd = openat(imgd_dirfd, IMGD_PARTIAL_DIR, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL)
		if (strncmp(de->d_name, "import-", 7) == 0)
			unlinkat(fd, de->d_name, 0);
	closedir(dir);
}

/*
 * The system calls imgd still makes once it is confined, and why.
 */
static const int imgd_syscalls[] = {
	/* the store: files under the images directory, by descriptor */
	SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(read), SCMP_SYS(write),
	SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(lseek), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(ftruncate), SCMP_SYS(fchmod), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(unlinkat), SCMP_SYS(mkdirat),
	SCMP_SYS(getdents64), SCMP_SYS(fadvise64), SCMP_SYS(fcntl),
	/* the imsg channel: descriptors arrive with recvmsg */
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	/* libevent */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(pipe2), SCMP_SYS(eventfd2), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	/* libcurl: sockets to the mirrors, and its resolver thread */
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmmsg),
	SCMP_SYS(shutdown), SCMP_SYS(bind), SCMP_SYS(ioctl),
	SCMP_SYS(socketpair),	/* curl wakes its resolver thread */
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(futex), SCMP_SYS(madvise),
	SCMP_SYS(sched_yield), SCMP_SYS(uname),
	/* memory, time and the end */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(getrandom), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(tgkill),
};

/* What the C library's resolver reads, for a mirror named by host. */
static const char *imgd_resolver[] = {
	"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf",
	"/etc/gai.conf", "/etc/host.conf", "/etc/services"
};

/* Copy one file into images/etc/, root's and read-only. */
static int
imgd_etc_copy(int etcfd, const char *path)
{
	char		 buf[65536], tmp[64];
	const char	*name = strrchr(path, '/') + 1;
	ssize_t		 n;
	int		 in, out = -1, rv = -1;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (errno == ENOENT ? 0 : -1);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	if ((out = openat(etcfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0444)) == -1)
		goto done;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			goto done;
	if (n == 0 && fchmod(out, 0444) == 0 &&
	    renameat(etcfd, tmp, etcfd, name) == 0)
		rv = 0;
 done:
	if (out != -1)
		close(out);
	if (rv == -1)
		unlinkat(etcfd, tmp, 0);
	close(in);
	return (rv);
}

/*
 * As root imgd is locked in the images directory, where the resolver
 * would find no /etc: give it copies of the files it reads, as mail
 * servers do for theirs.  Refreshed at each start.
 */
static void
imgd_chroot_etc(void)
{
	size_t	 i;
	int	 etcfd;

	if (mkdirat(imgd_dirfd, "etc", 0755) == -1 && errno != EEXIST) {
		log_warn("images/etc");
		return;
	}
	if ((etcfd = openat(imgd_dirfd, "etc", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_warn("images/etc");
		return;
	}
	if (fchown(etcfd, 0, 0) == -1 || fchmod(etcfd, 0755) == -1)
		log_warn("images/etc");
	for (i = 0; i < sizeof(imgd_resolver) / sizeof(imgd_resolver[0]);
	    i++)
		if (imgd_etc_copy(etcfd, imgd_resolver[i]) == -1)
			log_warn("images/etc: copy of %s", imgd_resolver[i]);
	close(etcfd);
}

/*
 * As root: locked in the images directory as _castra.  As a user:
 * Landlock allows the images directory, and, read-only, what the
 * resolver reads for each lookup.  The CA certificates were read
 * into memory already.
 */
static void
imgd_sandbox(const char *images)
{
	struct sandbox_path	 paths[1 + sizeof(imgd_resolver) /
				    sizeof(imgd_resolver[0])];
	struct sandbox		 sb;
	struct addrinfo		 hints, *res;
	size_t			 i, n = 0;

	if (geteuid() == 0)
		imgd_chroot_etc();
	/* One lookup now loads what the resolver loads only once. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("localhost", "80", &hints, &res) == 0)
		freeaddrinfo(res);

	paths[n].sp_path = images;
	paths[n++].sp_access = SANDBOX_READ | SANDBOX_WRITE;
	for (i = 0; i < sizeof(imgd_resolver) / sizeof(imgd_resolver[0]);
	    i++) {
		if (access(imgd_resolver[i], R_OK) == -1)
			continue;
		paths[n].sp_path = imgd_resolver[i];
		paths[n++].sp_access = SANDBOX_READ;
	}
	memset(&sb, 0, sizeof(sb));
	sb.sb_name = "castra-imgd";
	sb.sb_chroot = images;
	sb.sb_paths = paths;
	sb.sb_npaths = n;
	sb.sb_syscalls = imgd_syscalls;
	sb.sb_nsyscalls = sizeof(imgd_syscalls) / sizeof(imgd_syscalls[0]);
	sb.sb_allow = SANDBOX_TCP_CONNECT;	/* to any mirror */
	sandbox_enter(&sb);
}

int
main(int argc, char *argv[])
{
	char	 images[1024];

	proc_child_init(argc, argv, "castra-imgd");
	imgd_conf.ic_connect_timeout = IMGD_CONNECT_TIMEOUT;
	imgd_conf.ic_stall_timeout = IMGD_STALL_TIMEOUT;
	imgd_conf.ic_retries = IMGD_RETRIES;
	imgd_conf.ic_backoff_ms = IMGD_BACKOFF_MS;

	snprintf(images, sizeof(images), "%s/images", proc_env.pe_home);
	if ((imgd_dirfd = open(images, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("%s", images);
	event_init();
	if (fetch_init() == -1)
		fatalx("cannot start libcurl");
	signal(SIGPIPE, SIG_IGN);
	if (cache_init() == -1)
		fatalx("%s is not usable", images);
	imgd_sandbox(images);
	imgd_clean_partial();
	proc_child_listen(imgd_dispatch);
	log_debug("ready, cache %s", images);
	event_dispatch();
	return (0);
}
