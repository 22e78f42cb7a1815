/*
 * castra image: the shared image cache as castra sees it.  The list is
 * read from the cache directory as files on disk, like status; pull,
 * import, rm and prune ask castrad, which asks castra-imgd.  A file://
 * URL or a local path is opened here, as the user, and travels to
 * castrad as a descriptor: castrad never opens a path for a user.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "castra.h"
#include "client.h"
#include "config.h"
#include "imgmeta.h"
#include "proto.h"
#include "state.h"

#define IMAGE_PLAIN_PCT_STEP	25	/* plain lines at these steps */
#define IMAGE_PLAIN_MS		10000	/* or at least this often */
#define IMAGE_TTY_MS		100	/* bar redrawn at most this often */

struct castra_progress {
	int		 cp_fd;
	int		 cp_tty;
	char		 cp_url[CTL_PATH_MAX / 4];
	int64_t		 cp_start_ms;
	uint64_t	 cp_start_done;
	int64_t		 cp_last_ms;
	int		 cp_last_pct;
	int		 cp_shown;	/* a bar is on the line */
	double		 cp_rate;	/* bytes a second, 0: not known */
};

/* Capture the sha256 of CASTRA_EV_IMAGE_READY on the way to fn. */
struct image_relay {
	castra_event_fn	*ir_fn;
	void		*ir_arg;
	char		 ir_sha256[SHA256_HEX_LEN + 1];
};

static int64_t
image_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Open a file:// URL or a path as the caller; a relative one is taken
 * from dir (NULL: the working directory).  Returns the descriptor, or
 * -1 with ce set.
 */
int
castra_image_open(const char *dir, const char *spec,
    struct castra_error *ce)
{
	char		 path[PATH_MAX];
	const char	*p = spec;
	struct stat	 st;
	int		 fd;

	if (strncmp(p, "file://", 7) == 0)
		p += 7;
	if (*p == '\0') {
		castra_seterr(ce, 65, "%s: no path", spec);
		return (-1);
	}
	if (*p != '/' && dir != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, p);
	else
		strlcpy(path, p, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		castra_seterr(ce, 66, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		castra_seterr(ce, 66, "%s: not a regular file", path);
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
image_cmp(const void *a, const void *b)
{
	const struct castra_image	*ia = a, *ib = b;

	if (ia->cim_last_used_at != ib->cim_last_used_at)
		return (ia->cim_last_used_at > ib->cim_last_used_at ? -1 : 1);
	return (strcmp(ia->cim_sha256, ib->cim_sha256));
}

static void
image_fill(int dfd, const char *name, struct castra_image *im)
{
	struct imgmeta	 mt;
	struct stat	 st;
	char		 meta[NAME_MAX + 6], *buf;
	ssize_t		 n;
	int		 fd;

	memset(im, 0, sizeof(*im));
	strlcpy(im->cim_sha256, name, sizeof(im->cim_sha256));
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		im->cim_size = st.st_size;
	snprintf(meta, sizeof(meta), "%s.json", name);
	if ((fd = openat(dfd, meta, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if ((buf = malloc(IMGMETA_MAX + 1)) != NULL &&
	    (n = read(fd, buf, IMGMETA_MAX + 1)) > 0 &&
	    imgmeta_parse(buf, n, &mt) == 0 &&
	    strcmp(mt.mt_sha256, name) == 0) {
		strlcpy(im->cim_sha512, mt.mt_sha512, sizeof(im->cim_sha512));
		strlcpy(im->cim_format, mt.mt_format, sizeof(im->cim_format));
		im->cim_fetched_at = mt.mt_fetched_at;
		im->cim_last_used_at = mt.mt_last_used_at;
		if (mt.mt_nurls > 0)
			strlcpy(im->cim_url, mt.mt_urls[0],
			    sizeof(im->cim_url));
	}
	free(buf);
	close(fd);
}

/* Every image in the cache, most recently used first; free(*list). */
int
castra_image_list(struct castra_image **list, size_t *np,
    struct castra_error *ce)
{
	struct castra_image	*all = NULL, *p;
	struct dirent		*de;
	DIR			*dir;
	char			 home[PATH_MAX], path[PATH_MAX];
	size_t			 n = 0;

	*list = NULL;
	*np = 0;
	/* The cache of the castrad that castra image rm or pull reach. */
	if (client_home(home, sizeof(home)) == -1) {
		castra_seterr(ce, 70, "cannot find CASTRA_HOME: set it or "
		    "HOME");
		return (-1);
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/images/sha256", home) >=
	    sizeof(path)) {
		castra_seterr(ce, 70, "%s: path too long", home);
		return (-1);
	}
	if ((dir = opendir(path)) == NULL) {
		if (errno == ENOENT)
			return (0);
		castra_seterr(ce, 66, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while ((de = readdir(dir)) != NULL) {
		if (!imgmeta_hex_valid(de->d_name, SHA256_HEX_LEN))
			continue;
		if ((p = reallocarray(all, n + 1, sizeof(*all))) == NULL) {
			free(all);
			closedir(dir);
			castra_seterr(ce, 70, "out of memory");
			return (-1);
		}
		all = p;
		image_fill(dirfd(dir), de->d_name, &all[n++]);
	}
	closedir(dir);
	if (n > 0)
		qsort(all, n, sizeof(*all), image_cmp);
	*list = all;
	*np = n;
	return (0);
}

/* The one cached image whose sha256 begins with prefix. */
int
castra_image_resolve(const char *prefix, char *sha256,
    struct castra_error *ce)
{
	struct castra_image	*list;
	size_t			 i, n, len = strlen(prefix), found = 0;

	for (i = 0; i < len; i++)
		if (!((prefix[i] >= '0' && prefix[i] <= '9') ||
		    (prefix[i] >= 'a' && prefix[i] <= 'f')))
			break;
	if (len == 0 || i != len || len > SHA256_HEX_LEN) {
		castra_seterr(ce, 64, "%s: not a sha256 or its beginning in "
		    "lower-case hex; see castra image list", prefix);
		return (-1);
	}
	if (castra_image_list(&list, &n, ce) == -1)
		return (-1);
	for (i = 0; i < n; i++)
		if (strncmp(list[i].cim_sha256, prefix, len) == 0) {
			strlcpy(sha256, list[i].cim_sha256,
			    SHA256_HEX_LEN + 1);
			found++;
		}
	free(list);
	if (found == 1)
		return (0);
	castra_seterr(ce, found == 0 ? 66 : 64, found == 0 ?
	    "%s: no such image in the cache; see castra image list" :
	    "%s: more than one image begins so; give more digits", prefix);
	return (-1);
}

static void
image_relay_event(const struct castra_event *ev, void *arg)
{
	struct image_relay	*ir = arg;

	if (ev->ev_type == CASTRA_EV_IMAGE_READY)
		strlcpy(ir->ir_sha256, ev->ev_text, sizeof(ir->ir_sha256));
	if (ir->ir_fn != NULL)
		ir->ir_fn(ev, ir->ir_arg);
}

/* One request to castrad and its answer; fd goes with it if not -1. */
static int
image_ask(struct client *cl, uint32_t type, int fd, const void *data,
    size_t len, struct image_relay *ir, struct castra_error *ce)
{
	if (client_send(cl, type, fd, data, len, ce) == -1)
		return (-1);
	return (client_wait(cl, image_relay_event, ir, ce));
}

/* The ctl_image of one artifact of image name, without its urls. */
void
image_artifact(struct ctl_image *ci, const char *name, uint32_t role,
    const struct artifact *a)
{
	memset(ci, 0, sizeof(*ci));
	strlcpy(ci->ci_name, name, sizeof(ci->ci_name));
	ci->ci_role = role;
	strlcpy(ci->ci_artifact.ca_sha256, a->a_sha256,
	    sizeof(ci->ci_artifact.ca_sha256));
	strlcpy(ci->ci_artifact.ca_sha512, a->a_sha512,
	    sizeof(ci->ci_artifact.ca_sha512));
	ci->ci_artifact.ca_size = a->a_size;
}

/*
 * The artifact's urls that castra-imgd may fetch, into ci; file:// ones
 * are castra's to open.  -1 if one does not fit.
 */
int
image_artifact_urls(struct ctl_image *ci, const struct artifact *a,
    struct castra_error *ce)
{
	struct ctl_artifact	*ca = &ci->ci_artifact;
	int			 i;

	for (i = 0; i < a->a_nurls; i++) {
		if (strncmp(a->a_urls[i], "file://", 7) == 0)
			continue;
		if (strlcpy(ca->ca_urls[ca->ca_nurls], a->a_urls[i],
		    sizeof(ca->ca_urls[0])) >= sizeof(ca->ca_urls[0])) {
			castra_seterr(ce, 65, "%s: url too long",
			    a->a_urls[i]);
			return (-1);
		}
		ca->ca_nurls++;
	}
	return (0);
}

/* Fetch or import one artifact of an image into the cache. */
static int
image_pull_artifact(struct client *cl, const struct castra *c,
    const char *name, uint32_t role, const struct artifact *a,
    struct image_relay *ir, struct castra_error *ce)
{
	struct ctl_image	 ci;
	int			 i, fd;

	image_artifact(&ci, name, role, a);
	/* A local copy wins: no download at all. */
	for (i = 0; i < a->a_nurls; i++)
		if (strncmp(a->a_urls[i], "file://", 7) == 0) {
			if ((fd = castra_image_open(c->c_cfg->cf_dir,
			    a->a_urls[i], ce)) == -1)
				return (-1);
			return (image_ask(cl, IMSG_CTL_IMAGE_IMPORT, fd, &ci,
			    sizeof(ci), ir, ce));
		}
	if (image_artifact_urls(&ci, a, ce) == -1)
		return (-1);
	return (image_ask(cl, IMSG_CTL_IMAGE_PULL, -1, &ci, sizeof(ci), ir,
	    ce));
}

/* Fetch the images of the project into the cache; name NULL: all. */
int
castra_image_pull(struct castra *c, const char *name, castra_event_fn *fn,
    void *arg, struct castra_error *ce)
{
	struct image_relay	 ir;
	struct client		 cl;
	struct image		*img;
	int			 rv = 0, found = 0;

	if (name != NULL && config_image(c->c_cfg, name) == NULL) {
		castra_seterr(ce, 65, "%s: no image of that name in %s", name,
		    c->c_config);
		return (-1);
	}
	memset(&ir, 0, sizeof(ir));
	ir.ir_fn = fn;
	ir.ir_arg = arg;
	if (client_open(&cl, ce) == -1)
		return (-1);
	TAILQ_FOREACH(img, &c->c_cfg->cf_images, img_entry) {
		if (name != NULL && strcmp(img->img_name, name) != 0)
			continue;
		found++;
		if ((img->img_disk.a_nurls > 0 && image_pull_artifact(&cl, c,
		    img->img_name, CTL_IMAGE_DISK, &img->img_disk, &ir,
		    ce) == -1) ||
		    (img->img_kernel.a_nurls > 0 && image_pull_artifact(&cl,
		    c, img->img_name, CTL_IMAGE_KERNEL, &img->img_kernel, &ir,
		    ce) == -1) ||
		    (img->img_initrd.a_nurls > 0 && image_pull_artifact(&cl,
		    c, img->img_name, CTL_IMAGE_INITRD, &img->img_initrd, &ir,
		    ce) == -1)) {
			rv = -1;
			break;
		}
	}
	client_close(&cl);
	if (rv == 0 && found == 0) {
		castra_seterr(ce, 65, "%s declares no image", c->c_config);
		return (-1);
	}
	return (rv);
}

/* Import a local file by its content; its sha256 goes to sha256. */
int
castra_image_import(const char *path, char *sha256, castra_event_fn *fn,
    void *arg, struct castra_error *ce)
{
	struct image_relay	 ir;
	struct ctl_image	 ci;
	struct client		 cl;
	int			 fd, rv;

	if ((fd = castra_image_open(NULL, path, ce)) == -1)
		return (-1);
	if (client_open(&cl, ce) == -1) {
		close(fd);
		return (-1);
	}
	memset(&ir, 0, sizeof(ir));
	ir.ir_fn = fn;
	ir.ir_arg = arg;
	memset(&ci, 0, sizeof(ci));
	strlcpy(ci.ci_name, "import", sizeof(ci.ci_name));
	rv = image_ask(&cl, IMSG_CTL_IMAGE_IMPORT, fd, &ci, sizeof(ci), &ir,
	    ce);
	client_close(&cl);
	if (rv == 0 && sha256 != NULL)
		strlcpy(sha256, ir.ir_sha256, SHA256_HEX_LEN + 1);
	return (rv);
}

static int
image_remove(const char *sha256, uint64_t age, uint64_t size,
    castra_event_fn *fn, void *arg, struct castra_error *ce)
{
	struct image_relay	 ir;
	struct ctl_image_remove	 cx;
	struct client		 cl;
	int			 rv;

	memset(&cx, 0, sizeof(cx));
	if (sha256 != NULL)
		strlcpy(cx.cx_sha256, sha256, sizeof(cx.cx_sha256));
	cx.cx_age = age;
	cx.cx_size = size;
	memset(&ir, 0, sizeof(ir));
	ir.ir_fn = fn;
	ir.ir_arg = arg;
	if (client_open(&cl, ce) == -1)
		return (-1);
	rv = image_ask(&cl, IMSG_CTL_IMAGE_REMOVE, -1, &cx, sizeof(cx), &ir,
	    ce);
	client_close(&cl);
	return (rv);
}

/* Remove one image, named by its sha256 or a unique beginning of it. */
int
castra_image_remove(const char *prefix, castra_event_fn *fn, void *arg,
    struct castra_error *ce)
{
	char	 sha256[SHA256_HEX_LEN + 1];

	if (castra_image_resolve(prefix, sha256, ce) == -1)
		return (-1);
	return (image_remove(sha256, 0, 0, fn, arg, ce));
}

/*
 * Remove the images unused for age seconds, then the least recently
 * used until the cache holds at most size bytes; both 0: every image.
 * Images that running VMs use are spared either way.
 */
int
castra_image_prune(uint64_t age, uint64_t size, castra_event_fn *fn,
    void *arg, struct castra_error *ce)
{
	return (image_remove(NULL, age, size, fn, arg, ce));
}

/* The progress display */

struct castra_progress *
castra_progress_new(int fd)
{
	struct castra_progress	*cp;

	if ((cp = calloc(1, sizeof(*cp))) == NULL)
		return (NULL);
	cp->cp_fd = fd;
	cp->cp_tty = fd != -1 && isatty(fd);
	cp->cp_last_pct = -1;
	return (cp);
}

static void
image_bytes(uint64_t n, char *buf, size_t len)
{
	if (n >= 1024ULL * 1024 * 1024)
		snprintf(buf, len, "%.1f GiB", n / (1024.0 * 1024 * 1024));
	else if (n >= 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", n / (1024.0 * 1024));
	else if (n >= 1024)
		snprintf(buf, len, "%.1f KiB", n / 1024.0);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)n);
}

static int
image_columns(int fd)
{
	struct winsize	 ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == -1 || ws.ws_col < 40)
		return (80);
	return (ws.ws_col > 200 ? 200 : ws.ws_col);
}

/* " 0:12 left" when a rate says how long the rest takes; else "". */
static void
image_eta(uint64_t done, uint64_t total, double rate, char *buf, size_t len)
{
	uint64_t	 n;

	buf[0] = '\0';
	if (total <= done || rate <= 0)
		return;
	n = (uint64_t)((total - done) / rate);
	snprintf(buf, len, " %llu:%02llu left", (unsigned long long)(n / 60),
	    (unsigned long long)(n % 60));
}

/*
 * "name  45% [#####     ] 12.0 MiB/48.0 MiB 3.1 MiB/s 0:12 left": the
 * bar takes what the text leaves of the line, so that the time left is
 * never cut off and the line never wraps.
 */
static void
image_bar(struct castra_progress *cp, uint64_t done, uint64_t total,
    double rate)
{
	char		 head[32], tail[128], bar[64], d[16], t[16], r[16];
	char		 eta[48];
	const char	*name;
	int		 cols, width, fill, pct;

	if ((name = strrchr(cp->cp_url, '/')) == NULL || name[1] == '\0')
		name = cp->cp_url;
	else
		name++;
	if (total > 0 && done > total)
		done = total;	/* imgd's word; never past the bar's end */
	image_bytes(done, d, sizeof(d));
	image_bytes(total, t, sizeof(t));
	image_bytes((uint64_t)rate, r, sizeof(r));
	image_eta(done, total, rate, eta, sizeof(eta));
	cols = image_columns(cp->cp_fd);
	if (total == 0) {
		dprintf(cp->cp_fd, "\r%-16.16s %s %s/s\033[K", name, d, r);
		cp->cp_shown = 1;
		return;
	}
	pct = (int)((double)done * 100 / total);
	snprintf(head, sizeof(head), "%-16.16s %3d%% [", name, pct);
	/* Fields of fixed width, so that the bar keeps its length. */
	snprintf(tail, sizeof(tail), "] %9s/%-9s %9s/s%-11s", d, t, r, eta);
	width = cols - 1 - (int)strlen(head) - (int)strlen(tail);
	if (width > (int)sizeof(bar) - 1)
		width = sizeof(bar) - 1;
	if (width < 5)
		width = 5;
	fill = (int)((double)done * width / total);
	memset(bar, '#', fill);
	memset(bar + fill, ' ', width - fill);
	bar[width] = '\0';
	dprintf(cp->cp_fd, "\r%s%s%s\033[K", head, bar, tail);
	cp->cp_shown = 1;
}

static void
image_plain(struct castra_progress *cp, uint64_t done, uint64_t total,
    double rate)
{
	char	 d[16], t[16], r[24], eta[48];

	image_bytes(done, d, sizeof(d));
	image_bytes(total, t, sizeof(t));
	/* No rate before there are two points to take it from. */
	r[0] = '\0';
	if (rate > 0) {
		strlcpy(r, ", ", sizeof(r));
		image_bytes((uint64_t)rate, r + 2, sizeof(r) - 2);
		strlcat(r, "/s", sizeof(r));
	}
	image_eta(done, total, rate, eta + 1, sizeof(eta) - 1);
	eta[0] = eta[1] != '\0' ? ',' : '\0';
	if (total > 0)
		dprintf(cp->cp_fd, "%s: %s of %s (%d%%)%s%s\n", cp->cp_url,
		    d, t, (int)(done * 100 / total), r, eta);
	else
		dprintf(cp->cp_fd, "%s: %s%s\n", cp->cp_url, d, r);
}

/*
 * Follow a download: a new URL starts a new measurement.  The rate is
 * taken over the whole download so far, which a resumed download's
 * first bytes do not inflate.
 */
static double
image_track(struct castra_progress *cp, const struct castra_event *ev,
    int64_t now)
{
	if (strcmp(cp->cp_url, ev->ev_text) != 0) {
		castra_progress_end(cp);
		strlcpy(cp->cp_url, ev->ev_text, sizeof(cp->cp_url));
		cp->cp_start_ms = now;
		cp->cp_start_done = ev->ev_done;
		cp->cp_last_ms = 0;
		cp->cp_last_pct = -1;
	}
	cp->cp_rate = 0;
	if (now > cp->cp_start_ms && ev->ev_done > cp->cp_start_done)
		cp->cp_rate = (ev->ev_done - cp->cp_start_done) * 1000.0 /
		    (now - cp->cp_start_ms);
	return (cp->cp_rate);
}

/*
 * Show a CASTRA_EV_IMAGE_PROGRESS event; others are ignored.  A display
 * made with descriptor -1 only measures, for castra_event_json().
 */
void
castra_progress_event(struct castra_progress *cp,
    const struct castra_event *ev)
{
	int64_t		 now = image_now_ms();
	double		 rate;
	int		 pct, step;

	if (cp == NULL || ev->ev_type != CASTRA_EV_IMAGE_PROGRESS ||
	    ev->ev_text == NULL)
		return;
	rate = image_track(cp, ev, now);
	if (cp->cp_fd == -1)
		return;
	pct = ev->ev_total > 0 ? (int)(ev->ev_done * 100 / ev->ev_total) : 0;
	if (cp->cp_tty) {
		if (now - cp->cp_last_ms >= IMAGE_TTY_MS ||
		    ev->ev_done == ev->ev_total) {
			image_bar(cp, ev->ev_done, ev->ev_total, rate);
			cp->cp_last_ms = now;
		}
		return;
	}
	if (ev->ev_done == 0)
		return;		/* the start: nothing to say yet */
	step = pct / IMAGE_PLAIN_PCT_STEP;
	if (cp->cp_last_pct == -1 || step != cp->cp_last_pct ||
	    now - cp->cp_last_ms >= IMAGE_PLAIN_MS) {
		image_plain(cp, ev->ev_done, ev->ev_total, rate);
		cp->cp_last_pct = step;
		cp->cp_last_ms = now;
	}
}

/* End the bar's line, before anything else is printed. */
void
castra_progress_end(struct castra_progress *cp)
{
	if (cp != NULL && cp->cp_shown && cp->cp_fd != -1) {
		dprintf(cp->cp_fd, "\n");
		cp->cp_shown = 0;
	}
}

void
castra_progress_free(struct castra_progress *cp)
{
	castra_progress_end(cp);
	free(cp);
}

/* Events as JSON */

static const char *const image_event_names[CASTRA_EV_MAX] = {
	[CASTRA_EV_MESSAGE] = "message",
	[CASTRA_EV_WARNING] = "warning",
	[CASTRA_EV_IMAGE_PROGRESS] = "image_progress",
	[CASTRA_EV_IMAGE_READY] = "image_ready",
	[CASTRA_EV_BROKER_STARTED] = "broker_started",
	[CASTRA_EV_OVERLAY_PREPARED] = "overlay_prepared",
	[CASTRA_EV_VM_LAUNCHED] = "vm_launched",
	[CASTRA_EV_VM_REACHABLE] = "vm_reachable",
	[CASTRA_EV_SHUTDOWN_REQUESTED] = "shutdown_requested",
	[CASTRA_EV_COOPERATIVE_ATTEMPTED] = "cooperative_attempted",
	[CASTRA_EV_COOPERATIVE_SUCCEEDED] = "cooperative_succeeded",
	[CASTRA_EV_COOPERATIVE_TIMED_OUT] = "cooperative_timed_out",
	[CASTRA_EV_SHUTDOWN_ESCALATED] = "shutdown_escalated",
	[CASTRA_EV_SHUTDOWN_COMPLETE] = "shutdown_complete",
	[CASTRA_EV_OVERLAY_DISCARDED] = "overlay_discarded",
	[CASTRA_EV_BOOTSTRAP_STARTED] = "bootstrap_started",
	[CASTRA_EV_BOOTSTRAP_STEP] = "bootstrap_step",
	[CASTRA_EV_BOOTSTRAP_COMPLETED] = "bootstrap_completed",
	[CASTRA_EV_BOOTSTRAP_FAILED] = "bootstrap_failed",
	[CASTRA_EV_BOOTSTRAP_PLANNED] = "bootstrap_planned",
};

/* An optional string member: absent when empty. */
static int
image_json_str(json_t *o, const char *key, const char *v)
{
	if (v == NULL || *v == '\0')
		return (0);
	return (json_object_set_new(o, key, json_string(v)));
}

/* An integer member; JSON integers are signed 64 bits. */
static int
image_json_int(json_t *o, const char *key, uint64_t v)
{
	return (json_object_set_new(o, key,
	    json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v)));
}

/* Bytes, rate and time left of a download. */
static int
image_json_progress(json_t *o, struct castra_progress *cp,
    const struct castra_event *ev)
{
	uint64_t	 left;

	if (image_json_int(o, "done", ev->ev_done) == -1 ||
	    image_json_int(o, "total", ev->ev_total) == -1)
		return (-1);
	if (cp == NULL)
		return (0);
	castra_progress_event(cp, ev);
	if (cp->cp_rate <= 0)
		return (0);
	if (image_json_int(o, "bytes_per_second", (uint64_t)cp->cp_rate) ==
	    -1)
		return (-1);
	if (ev->ev_total <= ev->ev_done)
		return (0);
	left = (uint64_t)((ev->ev_total - ev->ev_done) * 1000.0 / cp->cp_rate);
	return (image_json_int(o, "left_ms", left));
}

/*
 * One event as a line of compact JSON without a newline, for programs
 * that relay events.  A progress display, if given, is fed the event
 * and adds the rate and time left to image_progress.  Free the string
 * with free(3); NULL when out of memory.
 */
char *
castra_event_json(struct castra_progress *cp, const struct castra_event *ev)
{
	json_t		*o;
	char		*s = NULL;
	const char	*type = NULL;

	if ((unsigned)ev->ev_type < CASTRA_EV_MAX)
		type = image_event_names[ev->ev_type];
	if ((o = json_object()) == NULL)
		return (NULL);
	if (json_object_set_new(o, "type", json_string(type != NULL ? type :
	    "unknown")) == -1 ||
	    image_json_str(o, "vm", ev->ev_vm) == -1 ||
	    image_json_str(o, "text", ev->ev_text) == -1 ||
	    image_json_str(o, "detail", ev->ev_detail) == -1)
		goto done;
	if (ev->ev_type == CASTRA_EV_IMAGE_PROGRESS) {
		if (image_json_progress(o, cp, ev) == -1)
			goto done;
	} else if ((ev->ev_num != 0 &&
	    image_json_int(o, "num", ev->ev_num) == -1) ||
	    (ev->ev_ms != 0 && image_json_int(o, "ms", ev->ev_ms) == -1))
		goto done;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
 done:
	json_decref(o);
	return (s);
}
