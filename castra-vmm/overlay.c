/*
 * Overlays: every start gets a fresh copy-on-write layer over the cached
 * base image, and every stop throws it away.  castra-vmm makes the file
 * itself, in place of whatever had its name and never through a link
 * (lib/beneath.c); qemu-img formats that very file through
 * /proc/self/fd, and QEMU later gets it as descriptors.  The base is
 * named by its absolute path inside the image cache, so that the
 * overlay resolves it from anywhere.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "vmm.h"

int
overlay_path(char *buf, size_t len, const char *vm)
{
	if ((size_t)snprintf(buf, len, "overlays/%s.qcow2", vm) >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/* Read what a child wrote to its stderr pipe, as one line. */
static void
overlay_errtext(int fd, char *err, size_t errlen)
{
	size_t	 off = 0;
	ssize_t	 n;
	char	*p;

	while (off + 1 < errlen &&
	    (n = read(fd, err + off, errlen - off - 1)) > 0)
		off += n;
	err[off] = '\0';
	for (p = err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	while (off > 0 && err[off - 1] == ' ')
		err[--off] = '\0';
}

/* The base's format, by its first bytes: qcow2 or else raw. */
static const char *
overlay_base_format(const char *base)
{
	char	 magic[4];
	int	 fd, qcow2 = 0;

	if ((fd = open(base, O_RDONLY | O_CLOEXEC)) != -1) {
		qcow2 = read(fd, magic, sizeof(magic)) == sizeof(magic) &&
		    memcmp(magic, "QFI\xfb", sizeof(magic)) == 0;
		close(fd);
	}
	return (qcow2 ? "qcow2" : "raw");
}

/* qemu-img create -f qcow2 -b <base> -F <its format> on fd, as self. */
static int
overlay_format(int fd, const char *self, const char *base, char *err,
    size_t errlen)
{
	char	*argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b",
		    (char *)base, "-F", (char *)overlay_base_format(base),
		    (char *)self, NULL };
	pid_t	 pid;
	int	 p[2], status, devnull;

	if (pipe2(p, O_CLOEXEC) == -1)
		return (-1);
	switch (pid = fork()) {
	case -1:
		close(p[0]);
		close(p[1]);
		return (-1);
	case 0:
		if ((devnull = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(devnull, STDIN_FILENO) == -1 ||
		    dup2(devnull, STDOUT_FILENO) == -1 ||
		    dup2(p[1], STDERR_FILENO) == -1 ||
		    fcntl(fd, F_SETFD, 0) == -1)
			_exit(126);
		execv(VMM_QEMU_IMG, argv);
		dprintf(STDERR_FILENO, "exec %s: %s", VMM_QEMU_IMG,
		    strerror(errno));
		_exit(127);
	}
	close(p[1]);
	overlay_errtext(p[0], err, errlen);
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return (-1);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return (0);
	if (err[0] == '\0')
		snprintf(err, errlen, "qemu-img failed with status %d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	errno = EIO;
	return (-1);
}

/*
 * A new overlays/<vm>.qcow2 over base, in place of what a previous run
 * left.  Returns it open for reading and writing, and in *rofd open
 * again read-only; on failure -1, and err says why.
 */
int
overlay_create(int dirfd, const char *vm, const char *base, int *rofd,
    char *err, size_t errlen)
{
	char	 path[VM_NAME_MAX + 32], self[32];
	int	 fd;

	err[0] = '\0';
	*rofd = -1;
	if (overlay_path(path, sizeof(path), vm) == -1)
		return (-1);
	if ((fd = beneath_create(dirfd, path, O_RDWR, 0644)) == -1) {
		snprintf(err, errlen, "cannot make %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (overlay_format(fd, self, base, err, errlen) == -1)
		goto fail;
	/* The same file, not whatever bears its name by now. */
	if ((*rofd = open(self, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot open %s again: %s", path,
		    strerror(errno));
		goto fail;
	}
	return (fd);

 fail:
	close(fd);
	return (-1);
}

/*
 * Remove the overlay and say how many bytes it held on disk.  A name
 * that is a link loses only the link, and counts for nothing.
 */
int
overlay_remove(int dirfd, const char *vm, uint64_t *bytes)
{
	struct stat	 st;
	char		 path[VM_NAME_MAX + 32];
	int		 fd;

	*bytes = 0;
	if (overlay_path(path, sizeof(path), vm) == -1)
		return (-1);
	if ((fd = beneath_open(dirfd, path, O_PATH, 0)) != -1) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_nlink == 1)
			*bytes = (uint64_t)st.st_blocks * 512;
		close(fd);
	}
	return (beneath_unlink(dirfd, path));
}
