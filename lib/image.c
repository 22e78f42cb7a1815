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
	if (state_home(home, sizeof(home)) == -1) {
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
		    "lower-case hex", prefix);
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

static void
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
	for (i = 0; i < a->a_nurls; i++) {
		if (strlcpy(ci.ci_artifact.ca_urls[ci.ci_artifact.ca_nurls],
		    a->a_urls[i], sizeof(ci.ci_artifact.ca_urls[0])) >=
		    sizeof(ci.ci_artifact.ca_urls[0])) {
			castra_seterr(ce, 65, "%s: url too long",
			    a->a_urls[i]);
			return (-1);
		}
		ci.ci_artifact.ca_nurls++;
	}
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
	cp->cp_tty = isatty(fd);
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

/* "name  45% [#####     ] 12.0 MiB/48.0 MiB 3.1 MiB/s 0:12 left" */
static void
image_bar(struct castra_progress *cp, uint64_t done, uint64_t total,
    double rate)
{
	char		 line[256], bar[64], d[16], t[16], r[16], eta[24];
	const char	*name;
	int		 cols, width, fill, pct, n;

	if ((name = strrchr(cp->cp_url, '/')) == NULL || name[1] == '\0')
		name = cp->cp_url;
	else
		name++;
	image_bytes(done, d, sizeof(d));
	image_bytes(total, t, sizeof(t));
	image_bytes((uint64_t)rate, r, sizeof(r));
	eta[0] = '\0';
	if (total > done && rate > 0) {
		n = (int)((total - done) / rate);
		snprintf(eta, sizeof(eta), " %d:%02d left", n / 60, n % 60);
	}
	cols = image_columns(cp->cp_fd);
	width = cols - 60;
	if (width < 10)
		width = 10;
	if (width > (int)sizeof(bar) - 1)
		width = sizeof(bar) - 1;
	pct = total > 0 ? (int)(done * 100 / total) : 0;
	fill = total > 0 ? (int)(done * width / total) : 0;
	memset(bar, '#', fill);
	memset(bar + fill, ' ', width - fill);
	bar[width] = '\0';
	if (total > 0)
		n = snprintf(line, sizeof(line), "%-16.16s %3d%% [%s] %s/%s "
		    "%s/s%s", name, pct, bar, d, t, r, eta);
	else
		n = snprintf(line, sizeof(line), "%-16.16s %s %s/s", name,
		    d, r);
	if (n >= cols)
		line[cols - 1] = '\0';
	dprintf(cp->cp_fd, "\r%s\033[K", line);
	cp->cp_shown = 1;
}

static void
image_plain(struct castra_progress *cp, uint64_t done, uint64_t total,
    double rate)
{
	char	 d[16], t[16], r[24];

	image_bytes(done, d, sizeof(d));
	image_bytes(total, t, sizeof(t));
	/* No rate before there are two points to take it from. */
	r[0] = '\0';
	if (rate > 0) {
		strlcpy(r, ", ", sizeof(r));
		image_bytes((uint64_t)rate, r + 2, sizeof(r) - 2);
		strlcat(r, "/s", sizeof(r));
	}
	if (total > 0)
		dprintf(cp->cp_fd, "%s: %s of %s (%d%%)%s\n", cp->cp_url,
		    d, t, (int)(done * 100 / total), r);
	else
		dprintf(cp->cp_fd, "%s: %s%s\n", cp->cp_url, d, r);
}

/* Show a CASTRA_EV_IMAGE_PROGRESS event; others are ignored. */
void
castra_progress_event(struct castra_progress *cp,
    const struct castra_event *ev)
{
	int64_t		 now = image_now_ms();
	double		 rate = 0;
	int		 pct, step;

	if (cp == NULL || ev->ev_type != CASTRA_EV_IMAGE_PROGRESS)
		return;
	if (strcmp(cp->cp_url, ev->ev_text) != 0) {
		castra_progress_end(cp);
		strlcpy(cp->cp_url, ev->ev_text, sizeof(cp->cp_url));
		cp->cp_start_ms = now;
		cp->cp_start_done = ev->ev_done;
		cp->cp_last_ms = 0;
		cp->cp_last_pct = -1;
	}
	if (now > cp->cp_start_ms && ev->ev_done > cp->cp_start_done)
		rate = (ev->ev_done - cp->cp_start_done) * 1000.0 /
		    (now - cp->cp_start_ms);
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
	if (cp != NULL && cp->cp_shown) {
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
