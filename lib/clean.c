/*
 * castra clean: remove what a stopped project left in its state root
 * (overlays, runtime files, VM records, handshakes, logs) and say how
 * many bytes that gave back.  It refuses while the project's VMs or
 * broker run, unless forced.  The directories themselves, the project
 * record and the host token stay: castrad and `castra up` own them.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"
#include "state.h"

#define CLEAN_DEPTH_MAX	16

struct clean {
	const struct castra_clean_options *cl_opts;
	castra_event_fn		*cl_fn;
	void			*cl_arg;
	const char		*cl_root;
	uint64_t		 cl_bytes;
	int			 cl_errors;
	char			 cl_errpath[PATH_MAX];
	int			 cl_errno;
};

static int	clean_tree(struct clean *, int, const char *, int,
		    uint64_t *);

static void
clean_event(struct clean *cl, const char *rel, uint64_t bytes)
{
	struct castra_event	 ev;
	char			 path[PATH_MAX];

	if (cl->cl_fn == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", cl->cl_root, rel);
	memset(&ev, 0, sizeof(ev));
	ev.ev_type = CASTRA_EV_MESSAGE;
	ev.ev_vm = "";
	ev.ev_text = path;
	ev.ev_num = bytes;
	cl->cl_fn(&ev, cl->cl_arg);
}

static void
clean_fail(struct clean *cl, const char *rel)
{
	if (cl->cl_errors++ == 0) {
		cl->cl_errno = errno;
		snprintf(cl->cl_errpath, sizeof(cl->cl_errpath), "%s/%s",
		    cl->cl_root, rel);
	}
}

/*
 * Remove one entry of dirfd (relative name `name`, path `rel` for
 * messages), or what a directory holds; symbolic links are removed,
 * never followed.  The bytes are the blocks the files occupied.
 */
static int
clean_entry(struct clean *cl, int dirfd, const char *name, const char *rel,
    int depth, uint64_t *bytes)
{
	struct stat	 sb;
	uint64_t	 sub = 0;
	int		 fd, rc;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return (0);
		clean_fail(cl, rel);
		return (-1);
	}
	if (S_ISDIR(sb.st_mode)) {
		if (depth >= CLEAN_DEPTH_MAX) {
			errno = ELOOP;
			clean_fail(cl, rel);
			return (-1);
		}
		if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1) {
			clean_fail(cl, rel);
			return (-1);
		}
		/* Directories stay: their writers expect to find them. */
		rc = clean_tree(cl, fd, rel, depth + 1, &sub);
		*bytes += sub;
		return (rc);
	}
	*bytes += (uint64_t)sb.st_blocks * 512;
	if (!cl->cl_opts->co_dry_run && unlinkat(dirfd, name, 0) == -1) {
		clean_fail(cl, rel);
		return (-1);
	}
	return (0);
}

/* Remove what the directory fd holds; fd is closed here. */
static int
clean_tree(struct clean *cl, int fd, const char *rel, int depth,
    uint64_t *bytes)
{
	DIR		*dir;
	struct dirent	*de;
	char		 path[PATH_MAX];
	int		 rc = 0;

	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		clean_fail(cl, rel);
		return (-1);
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", rel, de->d_name);
		if (clean_entry(cl, dirfd(dir), de->d_name, path, depth,
		    bytes) == -1)
			rc = -1;
	}
	closedir(dir);
	return (rc);
}

/* Empty one directory of the state root and report it. */
static void
clean_dir(struct clean *cl, int rootfd, const char *rel)
{
	uint64_t	 bytes = 0;
	int		 fd;

	if ((fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			clean_fail(cl, rel);
		return;
	}
	(void)clean_tree(cl, fd, rel, 1, &bytes);
	cl->cl_bytes += bytes;
	if (bytes > 0)
		clean_event(cl, rel, bytes);
}

/* One file of the state root. */
static void
clean_file(struct clean *cl, int rootfd, const char *rel)
{
	uint64_t	 bytes = 0;
	struct stat	 sb;

	if (fstatat(rootfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	(void)clean_entry(cl, rootfd, rel, rel, 1, &bytes);
	cl->cl_bytes += bytes;
	clean_event(cl, rel, bytes);
}

/* The VMs and broker still running, "a, b, broker"; 0: none. */
static int
clean_running(struct castra *c, char *buf, size_t len,
    struct castra_error *ce)
{
	struct castra_status	*st;
	const char		*state;
	size_t			 i;
	int			 n = 0;

	if (castra_status(c, &st, ce) == -1)
		return (-1);
	buf[0] = '\0';
	for (i = 0; i < st->st_nvms; i++) {
		state = st->st_vms[i].vs_state;
		if (strcmp(state, "running") != 0 &&
		    strcmp(state, "starting") != 0 &&
		    strcmp(state, "stopping") != 0)
			continue;
		if (n++ > 0)
			strlcat(buf, ", ", len);
		strlcat(buf, st->st_vms[i].vs_name, len);
	}
	if (strcmp(st->st_broker_state, "listening") == 0) {
		if (n++ > 0)
			strlcat(buf, ", ", len);
		strlcat(buf, "the broker", len);
	}
	castra_status_free(st);
	return (n);
}

int
castra_clean(struct castra *c, const struct castra_clean_options *co,
    castra_event_fn *fn, void *arg, uint64_t *reclaimed,
    struct castra_error *ce)
{
	static const struct castra_clean_options none;
	struct clean	 cl;
	char		 running[1024];
	int		 rootfd, n;

	if (ce != NULL)
		memset(ce, 0, sizeof(*ce));
	if (reclaimed != NULL)
		*reclaimed = 0;
	memset(&cl, 0, sizeof(cl));
	cl.cl_opts = co != NULL ? co : &none;
	cl.cl_fn = fn;
	cl.cl_arg = arg;
	cl.cl_root = c->c_root;

	if ((n = clean_running(c, running, sizeof(running), ce)) == -1)
		return (-1);
	if (n > 0 && !cl.cl_opts->co_force) {
		castra_seterr(ce, 70, "%s still running; stop %s with "
		    "`castra down` first, or rerun with --force if you are "
		    "sure nothing uses the state", running,
		    n > 1 ? "them" : "it");
		return (-1);
	}
	if ((rootfd = open(c->c_root, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return (0);	/* never brought up: nothing left */
		castra_seterr(ce, 74, "%s: %s; check that you own it",
		    c->c_root, strerror(errno));
		return (-1);
	}
	clean_dir(&cl, rootfd, STATE_OVERLAYS);
	clean_dir(&cl, rootfd, STATE_RUN);
	clean_dir(&cl, rootfd, STATE_VMS);
	if (n == 0)
		clean_file(&cl, rootfd, STATE_BROKER);
	if (!cl.cl_opts->co_keep_handshakes)
		clean_dir(&cl, rootfd, STATE_HANDSHAKES);
	if (!cl.cl_opts->co_keep_logs)
		clean_dir(&cl, rootfd, STATE_LOGS);
	close(rootfd);

	if (reclaimed != NULL)
		*reclaimed = cl.cl_bytes;
	if (cl.cl_errors > 0) {
		castra_seterr(ce, 74, "%s: %s%s; fix its permissions and "
		    "run castra clean again", cl.cl_errpath,
		    strerror(cl.cl_errno), cl.cl_errors > 1 ?
		    " (and more errors)" : "");
		return (-1);
	}
	return (0);
}
