/*
 * A minimal ustar(5) writer for bootstrap directories: regular files
 * and directories only, with their permission bits, owned by root,
 * sorted by name so that the same tree always gives the same bytes.
 * Anything else (a symbolic link, a device, a fifo) is refused rather
 * than silently dropped: a bootstrap that works on the host and then
 * misses a file in the guest is worse than an error.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"

#define TAR_BLOCK	512
#define TAR_NAME_MAX	100
#define TAR_PREFIX_MAX	155
#define TAR_SIZE_MAX	077777777777ULL		/* 11 octal digits */

static int	tar_add_dir(struct bootstrap_tar *, const char *,
		    const char *, int);

static int
tar_grow(struct bootstrap_tar *bt, size_t more)
{
	unsigned char	*p;
	size_t		 cap;

	if (bt->bt_len + more <= bt->bt_cap)
		return (0);
	if (bt->bt_len + more > BOOTSTRAP_TAR_MAX) {
		errno = EFBIG;
		return (-1);
	}
	cap = bt->bt_cap ? bt->bt_cap : 64 * 1024;
	while (cap < bt->bt_len + more)
		cap *= 2;
	if ((p = realloc(bt->bt_buf, cap)) == NULL)
		return (-1);
	memset(p + bt->bt_cap, 0, cap - bt->bt_cap);
	bt->bt_buf = p;
	bt->bt_cap = cap;
	return (0);
}

static void
tar_octal(char *field, size_t len, unsigned long long v)
{
	snprintf(field, len, "%0*llo", (int)len - 1, v);
}

/* Split a path into ustar's prefix and name; -1 if it cannot fit. */
static int
tar_split(const char *path, char *name, char *prefix)
{
	size_t		 len = strlen(path);
	const char	*slash;

	if (len <= TAR_NAME_MAX) {
		memcpy(name, path, len);
		return (0);
	}
	for (slash = path + len - 1; slash > path; slash--) {
		if (*slash != '/')
			continue;
		if ((size_t)(slash - path) <= TAR_PREFIX_MAX &&
		    strlen(slash + 1) <= TAR_NAME_MAX && slash[1] != '\0') {
			memcpy(prefix, path, slash - path);
			memcpy(name, slash + 1, strlen(slash + 1));
			return (0);
		}
	}
	errno = ENAMETOOLONG;
	return (-1);
}

static int
tar_header(struct bootstrap_tar *bt, const char *path, int isdir,
    mode_t mode, unsigned long long size)
{
	char		*h;
	unsigned int	 sum = 0;
	size_t		 i;

	if (size > TAR_SIZE_MAX) {
		errno = EFBIG;
		return (-1);
	}
	if (tar_grow(bt, TAR_BLOCK) == -1)
		return (-1);
	h = (char *)bt->bt_buf + bt->bt_len;
	memset(h, 0, TAR_BLOCK);
	if (tar_split(path, h, h + 345) == -1)
		return (-1);
	tar_octal(h + 100, 8, mode & 07777);
	tar_octal(h + 108, 8, 0);		/* uid */
	tar_octal(h + 116, 8, 0);		/* gid */
	tar_octal(h + 124, 12, size);
	tar_octal(h + 136, 12, 0);		/* mtime: reproducible */
	h[156] = isdir ? '5' : '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	memset(h + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	bt->bt_len += TAR_BLOCK;
	return (0);
}

static int
tar_add_file(struct bootstrap_tar *bt, const char *rel, int fd,
    const struct stat *st)
{
	size_t	 size = st->st_size, got = 0, pad;
	ssize_t	 n;

	if (tar_header(bt, rel, 0, st->st_mode, size) == -1 ||
	    tar_grow(bt, size + TAR_BLOCK) == -1)
		return (-1);
	while (got < size) {
		n = read(fd, bt->bt_buf + bt->bt_len + got, size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (-1);
		if (n == 0) {
			/* It shrank while being read. */
			errno = EAGAIN;
			return (-1);
		}
		got += n;
	}
	pad = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
	memset(bt->bt_buf + bt->bt_len + size, 0, pad);
	bt->bt_len += size + pad;
	bt->bt_files++;
	bt->bt_bytes += size;
	return (0);
}

static int
tar_namecmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* The names in a directory, sorted; *np of them, NULL on error. */
static char **
tar_names(int dfd, size_t *np)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, **nv;
	size_t		 n = 0, cap = 0;
	int		 fd;

	if ((fd = dup(dfd)) == -1)
		return (NULL);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return (NULL);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL)
				goto fail;
			v = nv;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			goto fail;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), tar_namecmp);
	*np = n;
	if (v == NULL)
		v = calloc(1, sizeof(*v));
	return (v);
 fail:
	closedir(d);
	while (n > 0)
		free(v[--n]);
	free(v);
	return (NULL);
}

static int
tar_add_entry(struct bootstrap_tar *bt, int dfd, const char *name,
    const char *rel)
{
	struct stat	 st;
	int		 fd, rv;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		if (errno == ELOOP)
			errno = EOPNOTSUPP;
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		close(fd);
		return (-1);
	}
	if (S_ISDIR(st.st_mode)) {
		rv = tar_header(bt, rel, 1, st.st_mode, 0);
		if (rv == 0)
			rv = tar_add_dir(bt, rel, NULL, fd);
	} else if (S_ISREG(st.st_mode))
		rv = tar_add_file(bt, rel, fd, &st);
	else {
		errno = EOPNOTSUPP;
		rv = -1;
	}
	close(fd);
	return (rv);
}

/*
 * Add the entries of the directory open as dfd (or, with path, opened
 * from it), their names prefixed by base ("" at the top).
 */
static int
tar_add_dir(struct bootstrap_tar *bt, const char *base, const char *path,
    int dfd)
{
	char	**names, rel[PATH_MAX];
	size_t	 n, i;
	int	 fd = dfd, rv = 0;

	if (path != NULL && (fd = open(path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return (-1);
	if ((names = tar_names(fd, &n)) == NULL) {
		rv = -1;
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (rv == 0) {
			if ((size_t)snprintf(rel, sizeof(rel), "%s%s%s", base,
			    base[0] ? "/" : "", names[i]) >= sizeof(rel)) {
				errno = ENAMETOOLONG;
				rv = -1;
			} else if (tar_add_entry(bt, fd, names[i],
			    rel) == -1) {
				if (bt->bt_failed[0] == '\0')
					strlcpy(bt->bt_failed, rel,
					    sizeof(bt->bt_failed));
				rv = -1;
			}
		}
		free(names[i]);
	}
	free(names);
 done:
	if (path != NULL)
		close(fd);
	return (rv);
}

/*
 * Pack the directory dir into bt: run.sh and everything else in it.
 * On failure errno says why and bt_failed names the entry ("" if the
 * directory itself).
 */
int
bootstrap_tar_make(struct bootstrap_tar *bt, const char *dir)
{
	memset(bt, 0, sizeof(*bt));
	if (tar_add_dir(bt, "", dir, -1) == -1)
		return (-1);
	/* The end: two zero blocks. */
	if (tar_grow(bt, 2 * TAR_BLOCK) == -1)
		return (-1);
	memset(bt->bt_buf + bt->bt_len, 0, 2 * TAR_BLOCK);
	bt->bt_len += 2 * TAR_BLOCK;
	return (0);
}

void
bootstrap_tar_free(struct bootstrap_tar *bt)
{
	free(bt->bt_buf);
	memset(bt, 0, sizeof(*bt));
}
