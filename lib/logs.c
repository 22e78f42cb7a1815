/*
 * castra logs: the last lines of the broker's and the VMs' logs, read
 * from the end of each file in blocks so that a large log costs no
 * more than a small one, and then, when asked, what is appended, across
 * rotation and truncation.  Lines are bytes: a serial console may write
 * anything, and nothing here assumes UTF-8.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "castra.h"
#include "config.h"
#include "state.h"

#define LOGS_BLOCK	8192
#define LOGS_LINE_MAX	65536		/* longer lines come in pieces */
#define LOGS_POLL_MS	200
#define LOGS_DEFAULT	200

struct logsrc {
	char		 ls_label[CONFIG_NAME_MAX + 16];
	char		 ls_path[PATH_MAX];
	int		 ls_fd;
	dev_t		 ls_dev;
	ino_t		 ls_ino;
	off_t		 ls_off;
	char		*ls_buf;		/* a line not yet ended */
	size_t		 ls_len;
};

struct logs {
	struct logsrc	*l_src;
	size_t		 l_nsrc;
	castra_log_fn	*l_fn;
	void		*l_arg;
};

static int
logs_add(struct logs *l, const char *root, const char *label,
    const char *rel)
{
	struct logsrc	*ls = &l->l_src[l->l_nsrc];
	int		 n;

	memset(ls, 0, sizeof(*ls));
	ls->ls_fd = -1;
	strlcpy(ls->ls_label, label, sizeof(ls->ls_label));
	n = snprintf(ls->ls_path, sizeof(ls->ls_path), "%s/%s/%s", root,
	    STATE_LOGS, rel);
	if (n < 0 || (size_t)n >= sizeof(ls->ls_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((ls->ls_buf = malloc(LOGS_LINE_MAX)) == NULL)
		return (-1);
	l->l_nsrc++;
	return (0);
}

/* The sources: the broker, then per VM its QEMU log and its console. */
static int
logs_sources(struct logs *l, struct castra *c, const char *which,
    struct castra_error *ce)
{
	struct instance	*ins = NULL;
	size_t		 i, n = 0;
	char		 label[CONFIG_NAME_MAX + 16], rel[CONFIG_NAME_MAX + 16];
	int		 found = 0;

	if (config_instances(c->c_cfg, &ins, &n) == -1 ||
	    (l->l_src = calloc(2 * n + 1, sizeof(*l->l_src))) == NULL)
		goto nomem;
	if (which == NULL || strcmp(which, "broker") == 0) {
		if (logs_add(l, c->c_root, "broker", "broker.log") == -1)
			goto nomem;
		found = 1;
	}
	for (i = 0; i < n; i++) {
		if (which != NULL && strcmp(which, ins[i].in_name) != 0)
			continue;
		found = 1;
		snprintf(rel, sizeof(rel), "%s.log", ins[i].in_name);
		if (logs_add(l, c->c_root, ins[i].in_name, rel) == -1)
			goto nomem;
		snprintf(label, sizeof(label), "%s:serial", ins[i].in_name);
		snprintf(rel, sizeof(rel), "%s-serial.log", ins[i].in_name);
		if (logs_add(l, c->c_root, label, rel) == -1)
			goto nomem;
	}
	free(ins);
	if (!found) {
		castra_seterr(ce, 64, "%s: no such VM in %s; name a VM that "
		    "castra status lists, or \"broker\"", which, c->c_config);
		return (-1);
	}
	return (0);

 nomem:
	free(ins);
	castra_seterr(ce, 70, "logs: %s", strerror(errno));
	return (-1);
}

static int
logs_emit(struct logs *l, struct logsrc *ls, const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return (l->l_fn(ls->ls_label, p, len, l->l_arg));
}

/*
 * Feed bytes to a source's line buffer; complete lines go out.  A line
 * longer than LOGS_LINE_MAX goes out in pieces rather than growing.
 */
static int
logs_feed(struct logs *l, struct logsrc *ls, const char *p, size_t len)
{
	const char	*nl;
	size_t		 n;

	while (len > 0) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		if (n > LOGS_LINE_MAX - ls->ls_len)
			n = LOGS_LINE_MAX - ls->ls_len;
		memcpy(ls->ls_buf + ls->ls_len, p, n);
		ls->ls_len += n;
		p += n;
		len -= n;
		if (len > 0 && *p == '\n') {
			p++;
			len--;
		} else if (ls->ls_len < LOGS_LINE_MAX)
			break;	/* no end yet: wait for more */
		if (logs_emit(l, ls, ls->ls_buf, ls->ls_len) == -1)
			return (-1);
		ls->ls_len = 0;
	}
	return (0);
}

/* Read from the source's offset to the end of the file. */
static int
logs_drain(struct logs *l, struct logsrc *ls)
{
	char	 buf[LOGS_BLOCK];
	ssize_t	 n;

	for (;;) {
		n = pread(ls->ls_fd, buf, sizeof(buf), ls->ls_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (-2);
		if (n == 0)
			return (0);
		ls->ls_off += n;
		if (logs_feed(l, ls, buf, n) == -1)
			return (-1);
	}
}

/*
 * Where the last `lines` lines of fd, size bytes long, begin: step back
 * from the end a block at a time, counting newlines, and stop as soon
 * as there are enough.  castra logs and castra bus tail both start
 * there.  -1 if the file cannot be read; 0, its start, if it shrank
 * while it was read.
 */
off_t
logs_tail_start(int fd, off_t size, size_t lines)
{
	char	 buf[LOGS_BLOCK];
	off_t	 pos = size;
	ssize_t	 n, got, i;
	size_t	 seen = 0;

	if (lines == 0)
		return (size);
	while (pos > 0) {
		n = pos < (off_t)sizeof(buf) ? pos : (off_t)sizeof(buf);
		pos -= n;
		if ((got = pread(fd, buf, n, pos)) == -1)
			return (-1);
		if (got != n)
			return (0);
		for (i = n - 1; i >= 0; i--) {
			/* The file's final newline ends the last line. */
			if (buf[i] != '\n' || pos + i == size - 1)
				continue;
			if (++seen == lines)
				return (pos + i + 1);
		}
	}
	return (0);
}

static int
logs_open(struct logsrc *ls)
{
	struct stat	 sb;

	if ((ls->ls_fd = open(ls->ls_path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK)) == -1)
		return (-1);
	if (fstat(ls->ls_fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(ls->ls_fd);
		ls->ls_fd = -1;
		errno = EINVAL;
		return (-1);
	}
	ls->ls_dev = sb.st_dev;
	ls->ls_ino = sb.st_ino;
	ls->ls_off = 0;
	ls->ls_len = 0;
	return (0);
}

static int
logs_tail(struct logs *l, struct logsrc *ls, size_t lines, int follow)
{
	struct stat	 sb;
	off_t		 start;
	int		 r;

	if (logs_open(ls) == -1)
		return (errno == ENOENT ? 0 : -2);
	if (fstat(ls->ls_fd, &sb) == -1 ||
	    (start = logs_tail_start(ls->ls_fd, sb.st_size, lines)) == -1)
		return (-2);
	ls->ls_off = start;
	if ((r = logs_drain(l, ls)) != 0)
		return (r);
	/*
	 * Without following, an unended last line is shown as it is;
	 * when following, it waits for the rest of itself.
	 */
	if (ls->ls_len > 0 && !follow) {
		r = logs_emit(l, ls, ls->ls_buf, ls->ls_len);
		ls->ls_len = 0;
		if (r == -1)
			return (-1);
	}
	return (0);
}

/* One round of following: new bytes, a new file, or a truncated one. */
static int
logs_poll(struct logs *l, struct logsrc *ls)
{
	struct stat	 sb, cur;
	int		 r;

	if (ls->ls_fd == -1) {
		if (logs_open(ls) == -1)
			return (errno == ENOENT ? 0 : -2);
	}
	if (fstat(ls->ls_fd, &cur) == -1)
		return (-2);
	if (cur.st_size < ls->ls_off) {
		/* Truncated in place: start again from its beginning. */
		ls->ls_off = 0;
		ls->ls_len = 0;
	}
	if ((r = logs_drain(l, ls)) != 0)
		return (r);
	if (stat(ls->ls_path, &sb) == -1 || sb.st_dev != ls->ls_dev ||
	    sb.st_ino != ls->ls_ino) {
		/* Rotated: the old file is read to its end; now the new. */
		if (ls->ls_len > 0 &&
		    logs_emit(l, ls, ls->ls_buf, ls->ls_len) == -1)
			return (-1);
		close(ls->ls_fd);
		ls->ls_fd = -1;
		ls->ls_len = 0;
		if (logs_open(ls) == -1)
			return (errno == ENOENT ? 0 : -2);
		return (logs_drain(l, ls));
	}
	return (0);
}

static void
logs_free(struct logs *l)
{
	size_t	 i;

	for (i = 0; i < l->l_nsrc; i++) {
		if (l->l_src[i].ls_fd != -1)
			close(l->l_src[i].ls_fd);
		free(l->l_src[i].ls_buf);
	}
	free(l->l_src);
}

int
castra_logs(struct castra *c, const struct castra_logs_options *lo,
    castra_log_fn *fn, void *arg, struct castra_error *ce)
{
	struct logs	 l;
	struct timespec	 ts = { 0, LOGS_POLL_MS * 1000000L };
	size_t		 i, lines = LOGS_DEFAULT;
	int		 r = 0;

	if (ce != NULL)
		memset(ce, 0, sizeof(*ce));
	memset(&l, 0, sizeof(l));
	l.l_fn = fn;
	l.l_arg = arg;
	if (lo != NULL)
		lines = lo->lo_lines;
	if (logs_sources(&l, c, lo != NULL ? lo->lo_source : NULL,
	    ce) == -1)
		goto fail;
	for (i = 0; i < l.l_nsrc && r == 0; i++)
		r = logs_tail(&l, &l.l_src[i], lines,
		    lo != NULL && lo->lo_follow);
	while (r == 0 && lo != NULL && lo->lo_follow) {
		nanosleep(&ts, NULL);
		for (i = 0; i < l.l_nsrc && r == 0; i++)
			r = logs_poll(&l, &l.l_src[i]);
	}
	if (r == -2) {
		castra_seterr(ce, 74, "%s: %s; check its permissions",
		    l.l_src[i - 1].ls_path, strerror(errno));
		goto fail;
	}
	logs_free(&l);
	return (0);

 fail:
	logs_free(&l);
	return (-1);
}
