/*
 * Downloads: libcurl's multi interface driven by libevent, so that any
 * number of transfers run inside imgd's one event loop beside the
 * channel to castrad.  curl tells us which sockets to watch and when
 * its next timeout is; we tell curl when a socket is ready.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "imgd.h"
#include "log.h"

#define FETCH_CA_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"
#define FETCH_CA_MAX	(16 * 1024 * 1024)
#define FETCH_REDIRS	5

struct fetch {
	CURL			*f_easy;
	const struct fetch_ops	*f_ops;
	void			*f_arg;
	uint64_t		 f_offset;	/* the Range asked for */
	uint64_t		 f_received;
	int			 f_checked;	/* the status was looked at */
	int			 f_error;	/* from fo_data */
	struct timespec		 f_last;	/* when bytes last came */
	struct event		 f_stall_ev;
	char			 f_errbuf[CURL_ERROR_SIZE];
};

struct fetch_sock {
	struct event		 fs_ev;
	curl_socket_t		 fs_fd;
};

static CURLM		*fetch_multi;
static struct event	 fetch_timer;
static char		*fetch_ca;	/* read before the sandbox closes */
static size_t		 fetch_calen;	/* the path off */

static void	fetch_timer_cb(int, short, void *);
static void	fetch_sock_cb(int, short, void *);
static void	fetch_check(void);
static void	fetch_free(struct fetch *);

static void
fetch_load_ca(void)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(FETCH_CA_BUNDLE, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s; https will fail", FETCH_CA_BUNDLE);
		return;
	}
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size > FETCH_CA_MAX ||
	    (fetch_ca = malloc(st.st_size)) == NULL) {
		log_warnx("%s: unusable; https will fail", FETCH_CA_BUNDLE);
		close(fd);
		return;
	}
	if ((n = read(fd, fetch_ca, st.st_size)) != st.st_size) {
		log_warnx("%s: short read; https will fail", FETCH_CA_BUNDLE);
		free(fetch_ca);
		fetch_ca = NULL;
	} else
		fetch_calen = n;
	close(fd);
}

static int
fetch_socket(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct fetch_sock	*fs = socketp;
	short			 events = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (fs != NULL) {
			event_del(&fs->fs_ev);
			free(fs);
			curl_multi_assign(fetch_multi, s, NULL);
		}
		return (0);
	}
	if (fs == NULL) {
		if ((fs = calloc(1, sizeof(*fs))) == NULL)
			return (-1);
		fs->fs_fd = s;
		curl_multi_assign(fetch_multi, s, fs);
	} else
		event_del(&fs->fs_ev);
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	event_set(&fs->fs_ev, s, events, fetch_sock_cb, fs);
	event_add(&fs->fs_ev, NULL);
	return (0);
}

static int
fetch_timeout(CURLM *multi, long ms, void *userp)
{
	struct timeval	 tv;

	evtimer_del(&fetch_timer);
	if (ms < 0)
		return (0);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&fetch_timer, &tv);
	return (0);
}

static void
fetch_timer_cb(int fd, short event, void *arg)
{
	int	 running;

	curl_multi_socket_action(fetch_multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	fetch_check();
}

static void
fetch_sock_cb(int fd, short event, void *arg)
{
	int	 flags = 0, running;

	if (event & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (event & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(fetch_multi, fd, flags, &running);
	fetch_check();
}

/* Before the sandbox: libcurl's start and the CA certificates. */
int
fetch_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (fetch_multi = curl_multi_init()) == NULL) {
		log_warnx("libcurl does not start");
		return (-1);
	}
	curl_multi_setopt(fetch_multi, CURLMOPT_SOCKETFUNCTION, fetch_socket);
	curl_multi_setopt(fetch_multi, CURLMOPT_TIMERFUNCTION, fetch_timeout);
	evtimer_set(&fetch_timer, fetch_timer_cb, NULL);
	fetch_load_ca();
	return (0);
}

/*
 * The first bytes of a body: a server that answers a Range request
 * with the whole file (200) makes us start again from zero.
 */
static void
fetch_first(struct fetch *f)
{
	long	 code = 0;

	f->f_checked = 1;
	curl_easy_getinfo(f->f_easy, CURLINFO_RESPONSE_CODE, &code);
	if (f->f_offset > 0 && code == 200) {
		log_debug("%s: server ignored the range, starting over",
		    __func__);
		f->f_offset = 0;
		f->f_ops->fo_restart(f->f_arg);
	}
}

static size_t
fetch_write(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct fetch	*f = arg;
	size_t		 len = size * nmemb;

	if (!f->f_checked)
		fetch_first(f);
	clock_gettime(CLOCK_MONOTONIC, &f->f_last);
	f->f_ops->fo_data(f->f_arg, buf, len, &f->f_error);
	if (f->f_error != 0)
		return (0);
	f->f_received += len;
	return (len);
}

/*
 * A server that sends nothing for the stall timeout fails the attempt.
 * curl's own low-speed limit averages over several seconds, so a
 * burst followed by silence would go unnoticed for longer than asked.
 */
static void
fetch_stall_cb(int fd, short event, void *arg)
{
	struct fetch		*f = arg;
	const struct fetch_ops	*ops = f->f_ops;
	struct timespec		 now;
	struct timeval		 tv = { 0, 250 * 1000 };
	time_t			 quiet, stall = imgd_conf.ic_stall_timeout;
	char			 msg[CTL_TEXT_MAX];
	void			*farg = f->f_arg;

	clock_gettime(CLOCK_MONOTONIC, &now);
	quiet = now.tv_sec - f->f_last.tv_sec;
	if (quiet < stall ||
	    (quiet == stall && now.tv_nsec < f->f_last.tv_nsec)) {
		evtimer_add(&f->f_stall_ev, &tv);
		return;
	}
	snprintf(msg, sizeof(msg), "stalled: no data for %u seconds",
	    imgd_conf.ic_stall_timeout);
	fetch_free(f);
	ops->fo_done(farg, FETCH_RETRY, msg);
}

struct fetch *
fetch_start(const char *url, uint64_t offset, const struct fetch_ops *ops,
    void *arg)
{
	struct fetch	*f;
	struct curl_blob blob;
	struct timeval	 stall_tv = { 0, 250 * 1000 };
	CURL		*c;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	if ((c = curl_easy_init()) == NULL) {
		free(f);
		return (NULL);
	}
	f->f_easy = c;
	f->f_ops = ops;
	f->f_arg = arg;
	f->f_offset = offset;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PRIVATE, f);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->f_errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FETCH_REDIRS);
	/* No file://, ftp:// or the like, even through a redirect. */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "castra-imgd/" CASTRA_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    (long)imgd_conf.ic_connect_timeout);
	/* A server that stops sending fails the transfer, never hangs it. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
	    (long)imgd_conf.ic_stall_timeout);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
	if (offset > 0)
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE,
		    (curl_off_t)offset);
	if (fetch_ca != NULL) {
		blob.data = fetch_ca;
		blob.len = fetch_calen;
		blob.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (curl_multi_add_handle(fetch_multi, c) != CURLM_OK) {
		curl_easy_cleanup(c);
		free(f);
		return (NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &f->f_last);
	evtimer_set(&f->f_stall_ev, fetch_stall_cb, f);
	evtimer_add(&f->f_stall_ev, &stall_tv);
	return (f);
}

static void
fetch_free(struct fetch *f)
{
	evtimer_del(&f->f_stall_ev);
	curl_multi_remove_handle(fetch_multi, f->f_easy);
	curl_easy_cleanup(f->f_easy);
	free(f);
}

/* The size of the whole file as the server told it, 0 if unknown. */
uint64_t
fetch_expected(struct fetch *f)
{
	curl_off_t	 len = -1;

	if (curl_easy_getinfo(f->f_easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
	    &len) != CURLE_OK || len < 0)
		return (0);
	return (f->f_offset + len);
}

/* Stop a transfer; its callbacks are not called again. */
void
fetch_cancel(struct fetch *f)
{
	if (f != NULL)
		fetch_free(f);
}

/* What a failed transfer means for the next attempt, and why. */
static int
fetch_classify(struct fetch *f, CURLcode rc, char *msg, size_t len)
{
	long	 code = 0;

	switch (rc) {
	case CURLE_WRITE_ERROR:
		snprintf(msg, len, "%s", strerror(f->f_error));
		if (f->f_error == ENOSPC || f->f_error == EDQUOT ||
		    f->f_error == EIO)
			return (FETCH_ABORT);
		return (FETCH_FATAL);
	case CURLE_HTTP_RETURNED_ERROR:
		curl_easy_getinfo(f->f_easy, CURLINFO_RESPONSE_CODE, &code);
		snprintf(msg, len, "HTTP status %ld", code);
		if (code == 416) {
			/* Our partial file is no prefix of theirs. */
			f->f_ops->fo_restart(f->f_arg);
			return (FETCH_RETRY);
		}
		return (code >= 500 || code == 408 || code == 429 ?
		    FETCH_RETRY : FETCH_FATAL);
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(msg, len, "stalled: no data for %u seconds (%s)",
		    imgd_conf.ic_stall_timeout, f->f_errbuf);
		return (FETCH_RETRY);
	case CURLE_RANGE_ERROR:
		f->f_ops->fo_restart(f->f_arg);
		snprintf(msg, len, "server refused to resume");
		return (FETCH_RETRY);
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(msg, len, "%s", f->f_errbuf[0] != '\0' ?
		    f->f_errbuf : curl_easy_strerror(rc));
		return (FETCH_RETRY);
	default:
		snprintf(msg, len, "%s", f->f_errbuf[0] != '\0' ?
		    f->f_errbuf : curl_easy_strerror(rc));
		return (FETCH_FATAL);
	}
}

static void
fetch_check(void)
{
	struct fetch	*f;
	CURLMsg		*m;
	char		 msg[CTL_TEXT_MAX];
	const struct fetch_ops *ops;
	void		*arg;
	int		 left, kind;

	while ((m = curl_multi_info_read(fetch_multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &f);
		msg[0] = '\0';
		kind = FETCH_OK;
		if (m->data.result != CURLE_OK)
			kind = fetch_classify(f, m->data.result, msg,
			    sizeof(msg));
		ops = f->f_ops;
		arg = f->f_arg;
		fetch_free(f);
		ops->fo_done(arg, kind, msg);
	}
}
