/*
 * The store: images/sha256/<hex> holds an image's bytes, read-only,
 * and <hex>.json its record; images/partial/ holds downloads and
 * imports in progress.  A file enters sha256/ only by rename, after
 * every byte was checked, so a reader never finds half an image there.
 *
 * All paths are relative to imgd_dirfd: as root imgd is locked in the
 * images directory, as a user Landlock keeps it there.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imgd.h"
#include "log.h"
#include "sandbox.h"

/* An image verified during this run, as it was when it was checked. */
struct verified {
	TAILQ_ENTRY(verified)	 vf_entry;
	char			 vf_sha256[SHA256_HEX_LEN + 1];
	dev_t			 vf_dev;
	ino_t			 vf_ino;
	off_t			 vf_size;
	struct timespec		 vf_mtime;
	struct timespec		 vf_ctime;
};
static TAILQ_HEAD(, verified)	 verified = TAILQ_HEAD_INITIALIZER(verified);

/* An image that a running VM uses; castrad says which. */
struct hold {
	TAILQ_ENTRY(hold)	 hd_entry;
	char			 hd_sha256[SHA256_HEX_LEN + 1];
	int			 hd_count;
};
static TAILQ_HEAD(, hold)	 holds = TAILQ_HEAD_INITIALIZER(holds);

/* One entry while pruning. */
struct pruned {
	char		 pr_sha256[SHA256_HEX_LEN + 1];
	int64_t		 pr_used;
	uint64_t	 pr_size;
};

/*
 * Before the sandbox.  As root the images directory belongs to root,
 * so that it may be imgd's chroot, and the two directories beneath it
 * belong to _castra, which imgd becomes.
 */
int
cache_init(void)
{
	static const char	*dirs[] = { IMGD_SHA256_DIR, IMGD_PARTIAL_DIR };
	uid_t			 uid;
	gid_t			 gid;
	size_t			 i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (mkdirat(imgd_dirfd, dirs[i], 0755) == -1 &&
		    errno != EEXIST) {
			log_warn("images/%s", dirs[i]);
			return (-1);
		}
		if (geteuid() != 0)
			continue;
		if (sandbox_user(&uid, &gid) == -1 ||
		    fchownat(imgd_dirfd, dirs[i], uid, gid,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			log_warn("images/%s: chown to %s", dirs[i],
			    SANDBOX_USER);
			return (-1);
		}
	}
	return (0);
}

int
cache_meta_read(const char *sha256, struct imgmeta *mt)
{
	char	 path[128], *buf;
	ssize_t	 n;
	int	 fd, rv = -1;

	snprintf(path, sizeof(path), "%s/%s.json", IMGD_SHA256_DIR, sha256);
	if ((fd = openat(imgd_dirfd, path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return (-1);
	if ((buf = malloc(IMGMETA_MAX + 1)) == NULL)
		goto done;
	if ((n = read(fd, buf, IMGMETA_MAX + 1)) == -1 || n > IMGMETA_MAX)
		goto done;
	if (imgmeta_parse(buf, n, mt) == 0 &&
	    strcmp(mt->mt_sha256, sha256) == 0)
		rv = 0;
 done:
	free(buf);
	close(fd);
	if (rv == -1)
		errno = EINVAL;
	return (rv);
}

int
cache_meta_write(const struct imgmeta *mt)
{
	char	 tmp[128], path[128], *s;
	size_t	 len;
	int	 fd;

	if ((s = imgmeta_format(mt)) == NULL)
		return (-1);
	snprintf(tmp, sizeof(tmp), "%s/.%s.json.tmp", IMGD_SHA256_DIR,
	    mt->mt_sha256);
	snprintf(path, sizeof(path), "%s/%s.json", IMGD_SHA256_DIR,
	    mt->mt_sha256);
	if ((fd = openat(imgd_dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
		goto fail;
	len = strlen(s);
	s[len++] = '\n';	/* over the NUL: written by length */
	if (write(fd, s, len) != (ssize_t)len || fsync(fd) == -1) {
		close(fd);
		goto fail;
	}
	close(fd);
	if (renameat(imgd_dirfd, tmp, imgd_dirfd, path) == -1)
		goto fail;
	free(s);
	return (0);

 fail:
	log_warn("images/%s", path);
	unlinkat(imgd_dirfd, tmp, 0);
	free(s);
	return (-1);
}

/* The image whose record names this sha512; its sha256 goes to out. */
int
cache_find_sha512(const char *sha512, char *out)
{
	struct imgmeta	 mt;
	struct dirent	*de;
	DIR		*dir;
	char		 hex[SHA256_HEX_LEN + 1];
	int		 fd, rv = -1;

	if ((fd = openat(imgd_dirfd, IMGD_SHA256_DIR, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return (-1);
	}
	while ((de = readdir(dir)) != NULL) {
		if (strlen(de->d_name) != SHA256_HEX_LEN + 5 ||
		    strcmp(de->d_name + SHA256_HEX_LEN, ".json") != 0)
			continue;
		strlcpy(hex, de->d_name, sizeof(hex));
		if (!imgmeta_hex_valid(hex, SHA256_HEX_LEN) ||
		    cache_meta_read(hex, &mt) == -1)
			continue;
		if (strcmp(mt.mt_sha512, sha512) == 0) {
			strlcpy(out, hex, SHA256_HEX_LEN + 1);
			rv = 0;
			break;
		}
	}
	closedir(dir);
	return (rv);
}

/* The cached image, open for reading; -1 with ENOENT if there is none. */
int
cache_open(const char *sha256, uint64_t *size)
{
	struct stat	 st;
	char		 path[128];
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", IMGD_SHA256_DIR, sha256);
	if ((fd = openat(imgd_dirfd, path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return (-1);
	}
	*size = st.st_size;
	return (fd);
}

static struct verified *
cache_verified_find(const char *sha256)
{
	struct verified	*vf;

	TAILQ_FOREACH(vf, &verified, vf_entry)
		if (strcmp(vf->vf_sha256, sha256) == 0)
			return (vf);
	return (NULL);
}

static int
timespec_same(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec);
}

/*
 * Whether the image behind fd was verified in this run and has not
 * been touched since: same inode, size, mtime and ctime.  A write, a
 * truncation, a chmod to make it writable or a replacement all change
 * one of them, and then the bytes are hashed again.
 */
int
cache_is_verified(const char *sha256, int fd)
{
	struct verified	*vf;
	struct stat	 st;

	if ((vf = cache_verified_find(sha256)) == NULL ||
	    fstat(fd, &st) == -1)
		return (0);
	return (vf->vf_dev == st.st_dev && vf->vf_ino == st.st_ino &&
	    vf->vf_size == st.st_size &&
	    timespec_same(&vf->vf_mtime, &st.st_mtim) &&
	    timespec_same(&vf->vf_ctime, &st.st_ctim));
}

void
cache_set_verified(const char *sha256, int fd)
{
	struct verified	*vf;
	struct stat	 st;

	if (fstat(fd, &st) == -1)
		return;
	if ((vf = cache_verified_find(sha256)) == NULL) {
		if ((vf = calloc(1, sizeof(*vf))) == NULL)
			return;
		strlcpy(vf->vf_sha256, sha256, sizeof(vf->vf_sha256));
		TAILQ_INSERT_TAIL(&verified, vf, vf_entry);
	}
	vf->vf_dev = st.st_dev;
	vf->vf_ino = st.st_ino;
	vf->vf_size = st.st_size;
	vf->vf_mtime = st.st_mtim;
	vf->vf_ctime = st.st_ctim;
}

void
cache_forget(const char *sha256)
{
	struct verified	*vf;

	if ((vf = cache_verified_find(sha256)) != NULL) {
		TAILQ_REMOVE(&verified, vf, vf_entry);
		free(vf);
	}
}

/*
 * Move a checked partial file into the store.  The record goes first:
 * a record without its image is a miss, while an image without its
 * record would lose its urls and sha512.
 */
int
cache_commit(const char *partial, const struct imgmeta *mt)
{
	char	 from[128], to[128];

	snprintf(from, sizeof(from), "%s/%s", IMGD_PARTIAL_DIR, partial);
	snprintf(to, sizeof(to), "%s/%s", IMGD_SHA256_DIR, mt->mt_sha256);
	if (cache_meta_write(mt) == -1)
		return (-1);
	if (renameat(imgd_dirfd, from, imgd_dirfd, to) == -1) {
		log_warn("images/%s", to);
		snprintf(to, sizeof(to), "%s/%s.json", IMGD_SHA256_DIR,
		    mt->mt_sha256);
		unlinkat(imgd_dirfd, to, 0);
		return (-1);
	}
	return (0);
}

/* Note that an image was just used, for prune. */
void
cache_touch(const char *sha256)
{
	struct imgmeta	 mt;

	if (cache_meta_read(sha256, &mt) == -1)
		return;
	mt.mt_last_used_at = time(NULL);
	cache_meta_write(&mt);
}

int
cache_partial_open(const char *name, int truncate)
{
	char	 path[128];

	snprintf(path, sizeof(path), "%s/%s", IMGD_PARTIAL_DIR, name);
	return (openat(imgd_dirfd, path, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | (truncate ? O_TRUNC : 0), 0600));
}

void
cache_partial_remove(const char *name)
{
	char	 path[128];

	snprintf(path, sizeof(path), "%s/%s", IMGD_PARTIAL_DIR, name);
	if (unlinkat(imgd_dirfd, path, 0) == -1 && errno != ENOENT)
		log_warn("images/%s", path);
}

void
cache_hold(const char *sha256, int delta)
{
	struct hold	*hd;

	TAILQ_FOREACH(hd, &holds, hd_entry)
		if (strcmp(hd->hd_sha256, sha256) == 0)
			break;
	if (hd == NULL) {
		if (delta < 0 || (hd = calloc(1, sizeof(*hd))) == NULL)
			return;
		strlcpy(hd->hd_sha256, sha256, sizeof(hd->hd_sha256));
		TAILQ_INSERT_TAIL(&holds, hd, hd_entry);
	}
	hd->hd_count += delta;
	if (hd->hd_count <= 0) {
		TAILQ_REMOVE(&holds, hd, hd_entry);
		free(hd);
	}
}

int
cache_held(const char *sha256)
{
	struct hold	*hd;

	TAILQ_FOREACH(hd, &holds, hd_entry)
		if (strcmp(hd->hd_sha256, sha256) == 0)
			return (1);
	return (0);
}

/* Remove an image and its record; EBUSY while a VM uses it. */
int
cache_remove(const char *sha256, uint64_t *bytes)
{
	struct stat	 st;
	char		 path[128];

	if (cache_held(sha256)) {
		errno = EBUSY;
		return (-1);
	}
	snprintf(path, sizeof(path), "%s/%s", IMGD_SHA256_DIR, sha256);
	if (fstatat(imgd_dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return (-1);
	if (unlinkat(imgd_dirfd, path, 0) == -1)
		return (-1);
	*bytes = st.st_size;
	cache_forget(sha256);
	snprintf(path, sizeof(path), "%s/%s.json", IMGD_SHA256_DIR, sha256);
	unlinkat(imgd_dirfd, path, 0);
	return (0);
}

static int
pruned_cmp(const void *a, const void *b)
{
	const struct pruned	*pa = a, *pb = b;

	if (pa->pr_used != pb->pr_used)
		return (pa->pr_used < pb->pr_used ? -1 : 1);
	return (strcmp(pa->pr_sha256, pb->pr_sha256));
}

/* Every image in the store, least recently used first. */
static struct pruned *
cache_list(size_t *np)
{
	struct imgmeta	 mt;
	struct stat	 st;
	struct dirent	*de;
	struct pruned	*list = NULL, *p;
	DIR		*dir;
	size_t		 n = 0;
	int		 fd;

	*np = 0;
	if ((fd = openat(imgd_dirfd, IMGD_SHA256_DIR, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1)
		return (NULL);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return (NULL);
	}
	while ((de = readdir(dir)) != NULL) {
		if (!imgmeta_hex_valid(de->d_name, SHA256_HEX_LEN) ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if ((p = reallocarray(list, n + 1, sizeof(*list))) == NULL)
			break;
		list = p;
		p = &list[n++];
		strlcpy(p->pr_sha256, de->d_name, sizeof(p->pr_sha256));
		p->pr_size = st.st_size;
		p->pr_used = st.st_mtim.tv_sec;
		if (cache_meta_read(de->d_name, &mt) == 0)
			p->pr_used = mt.mt_last_used_at > mt.mt_fetched_at ?
			    mt.mt_last_used_at : mt.mt_fetched_at;
	}
	closedir(dir);
	if (n > 0)
		qsort(list, n, sizeof(*list), pruned_cmp);
	*np = n;
	return (list);
}

/*
 * Remove images unused for age seconds, then the least recently used
 * until the store holds at most size bytes.  Neither given: remove
 * every image.  Images in use by a running VM are spared, and counted.
 */
int
cache_prune(uint64_t age, uint64_t size, uint32_t *count, uint64_t *bytes,
    uint32_t *held)
{
	struct pruned	*list;
	uint64_t	 total = 0, freed;
	int64_t		 now = time(NULL);
	size_t		 i, n = 0;
	int		 drop;

	*count = *held = 0;
	*bytes = 0;
	if ((list = cache_list(&n)) == NULL && n > 0)
		return (-1);
	for (i = 0; i < n; i++)
		total += list[i].pr_size;
	for (i = 0; i < n; i++) {
		drop = age == 0 && size == 0;
		if (age > 0 && now - list[i].pr_used >= (int64_t)age)
			drop = 1;
		if (size > 0 && total > size)
			drop = 1;
		if (!drop)
			continue;
		if (cache_held(list[i].pr_sha256)) {
			(*held)++;
			continue;
		}
		if (cache_remove(list[i].pr_sha256, &freed) == -1) {
			log_warn("images/sha256/%s", list[i].pr_sha256);
			continue;
		}
		log_info("pruned image %s, %llu bytes", list[i].pr_sha256,
		    (unsigned long long)freed);
		total -= freed;
		*bytes += freed;
		(*count)++;
	}
	free(list);
	return (0);
}
