/*
 * Files below a project's state root, named relative to its descriptor.
 *
 * As a system service the state root is its user's, and the directories
 * that castra-broker and castra-vmm write in are open to the user's
 * group; yet the children of every user run as the one _castra user.
 * While they run, a user may swap any name below the root for a
 * symbolic link, a hard link or a FIFO of their own making, and what
 * _castra then writes, truncates or removes through that name could be
 * another user's file or the image cache.  So here every path is
 * resolved with openat2(2) without following a symbolic link at any
 * component and without leaving the root; a regular file with a second
 * name is never opened, nor is anything but a regular file or a
 * directory; and removing or renaming acts on the name alone, never on
 * what it points at.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

/*
 * Open path below rootfd, with open(2)'s flags.  A directory is opened
 * as asked, and so is anything with O_PATH, whose caller checks what it
 * got.  Otherwise the file must be regular (ENXIO, as open(2) says of a
 * socket, if not) with a single link (EMLINK if not).  A FIFO is opened
 * without blocking, to be refused: a planted one must not stall the
 * event loop.  O_TRUNC is refused: truncating comes before any check,
 * so a file to be written from the start is made anew (beneath_create).
 */
int
beneath_open(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how	 how;
	struct stat	 st;
	int		 fd, saved, plain;

	if (flags & O_TRUNC) {
		errno = EINVAL;
		return (-1);
	}
	plain = !(flags & (O_PATH | O_DIRECTORY));
	memset(&how, 0, sizeof(how));
	/*
	 * RESOLVE_NO_SYMLINKS refuses every link, the last one too, with
	 * ELOOP; O_NOFOLLOW would make that ENOTDIR for a directory.
	 */
	how.flags = flags | O_CLOEXEC | (plain ? O_NONBLOCK : 0);
	how.mode = flags & O_CREAT ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	if ((fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how))) ==
	    -1)
		return (-1);
	if (!plain)
		return (fd);
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = ENXIO;
		goto fail;
	}
	if (st.st_nlink != 1) {
		errno = EMLINK;
		goto fail;
	}
	if (!(flags & O_NONBLOCK) &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1)
		goto fail;
	return (fd);

 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/*
 * The directory that holds path, opened for *at(2) calls on its last
 * component, which *name then points at.
 */
int
beneath_dir(int rootfd, const char *path, const char **name)
{
	char		 dir[PATH_MAX];
	const char	*slash;

	if ((slash = strrchr(path, '/')) == NULL) {
		*name = path;
		return (fcntl(rootfd, F_DUPFD_CLOEXEC, 0));
	}
	if ((size_t)(slash - path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(dir, path, slash - path);
	dir[slash - path] = '\0';
	*name = slash + 1;
	return (beneath_open(rootfd, dir, O_RDONLY | O_DIRECTORY, 0));
}

/* Remove the name path, whatever it is a link to; ENOENT is no error. */
int
beneath_unlink(int rootfd, const char *path)
{
	const char	*name;
	int		 dirfd, rv, saved;

	if ((dirfd = beneath_dir(rootfd, path, &name)) == -1)
		return (-1);
	rv = unlinkat(dirfd, name, 0);
	saved = errno;
	close(dirfd);
	if (rv == -1 && saved != ENOENT) {
		errno = saved;
		return (-1);
	}
	return (0);
}

/*
 * A new, empty file at path, in place of whatever had that name: a link
 * someone put there is removed, and its target left alone.  Should a
 * new one appear in between, the exclusive create fails with EEXIST.
 */
int
beneath_create(int rootfd, const char *path, int flags, mode_t mode)
{
	if (beneath_unlink(rootfd, path) == -1)
		return (-1);
	return (beneath_open(rootfd, path, flags | O_CREAT | O_EXCL, mode));
}

/* Rename from to to, both below rootfd: names only, as rename(2) does. */
int
beneath_rename(int rootfd, const char *from, const char *to)
{
	const char	*fname, *tname;
	int		 fdir, tdir = -1, rv = -1, saved;

	if ((fdir = beneath_dir(rootfd, from, &fname)) == -1)
		return (-1);
	if ((tdir = beneath_dir(rootfd, to, &tname)) != -1)
		rv = renameat(fdir, fname, tdir, tname);
	saved = errno;
	close(fdir);
	if (tdir != -1)
		close(tdir);
	errno = saved;
	return (rv);
}

int
beneath_mkdir(int rootfd, const char *path, mode_t mode)
{
	const char	*name;
	int		 dirfd, rv, saved;

	if ((dirfd = beneath_dir(rootfd, path, &name)) == -1)
		return (-1);
	rv = mkdirat(dirfd, name, mode);
	saved = errno;
	close(dirfd);
	errno = saved;
	return (rv);
}
