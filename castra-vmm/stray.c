/*
 * A QEMU that runs without a record naming it: its vms/<vm>.json was
 * lost, cut short or overwritten while castra-vmm was away.  Such a
 * QEMU still owns the VM's overlay, so it is found by what cannot be
 * forged from outside the state root: its cwd is the state root (vmm
 * starts every QEMU there) and its argv is QEMU's with -name <vm>.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "log.h"
#include "vmm.h"

#define STRAY_CMDLINE_MAX	16384

/* Does the process run in the directory whose stat is root? */
static int
stray_in_root(pid_t pid, const struct stat *root)
{
	struct stat	 st;
	char		 path[64];

	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	if (stat(path, &st) == -1)
		return (0);
	return (st.st_dev == root->st_dev && st.st_ino == root->st_ino);
}

static ssize_t
stray_cmdline(pid_t pid, char *buf, size_t len)
{
	char	 path[64];
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while (off < len && (n = read(fd, buf + off, len - off)) > 0)
		off += n;
	close(fd);
	return (off);
}

/* Its size from its argv, for a record that status can read again. */
static void
stray_sizes(struct vmm_guest *vm)
{
	const char	*errstr;
	long long	 n;
	int		 i;

	vm->vm_cpus = 1;
	vm->vm_memory_mib = 128;
	for (i = 0; i + 1 < vm->vm_argc; i++) {
		if (strcmp(vm->vm_argv[i], "-smp") == 0) {
			n = strtonum(vm->vm_argv[i + 1], 1, 1024, &errstr);
			if (errstr == NULL)
				vm->vm_cpus = n;
		} else if (strcmp(vm->vm_argv[i], "-m") == 0) {
			n = strtonum(vm->vm_argv[i + 1], 1, UINT32_MAX,
			    &errstr);
			if (errstr == NULL)
				vm->vm_memory_mib = n;
		}
	}
}

/*
 * Is the command line (NUL-separated words, as in /proc/PID/cmdline)
 * QEMU's with -name name?  If so, its words and size go into vm: 1.
 * The process wrote these bytes itself, so nothing in them is trusted.
 */
int
stray_parse(const char *buf, size_t len, const char *name,
    struct vmm_guest *vm)
{
	const char	*p, *end = buf + len;
	int		 named = 0;

	if (len == 0 || end[-1] != '\0' || strcmp(buf, VMM_QEMU) != 0)
		return (0);
	for (p = buf; p < end; p += strlen(p) + 1)
		if (strcmp(p, "-name") == 0 && p + strlen(p) + 1 < end &&
		    strcmp(p + strlen(p) + 1, name) == 0)
			named = 1;
	if (!named)
		return (0);
	qemu_argv_free(vm);
	for (p = buf; p < end; p += strlen(p) + 1) {
		if (vm->vm_argc >= VMM_ARGV_MAX - 1)
			return (0);
		if ((vm->vm_argv[vm->vm_argc] = strdup(p)) == NULL)
			return (-1);
		vm->vm_argv[++vm->vm_argc] = NULL;
	}
	stray_sizes(vm);
	return (1);
}

/*
 * Look for a QEMU of VM name in the state root dirfd; on finding one,
 * fill in vm's pid, start time and argv and return 1.  0: none.
 */
int
stray_find(int dirfd, const char *name, struct vmm_guest *vm)
{
	struct stat	 root;
	struct dirent	*de;
	DIR		*dir;
	char		*buf;
	const char	*errstr;
	ssize_t		 n;
	pid_t		 pid;
	int		 rc = 0;

	if (fstat(dirfd, &root) == -1)
		return (-1);
	if ((buf = malloc(STRAY_CMDLINE_MAX)) == NULL)
		return (-1);
	if ((dir = opendir("/proc")) == NULL) {
		free(buf);
		return (-1);
	}
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtonum(de->d_name, 2, INT_MAX, &errstr);
		if (errstr != NULL || pid == getpid() ||
		    !stray_in_root(pid, &root))
			continue;
		if ((n = stray_cmdline(pid, buf,
		    STRAY_CMDLINE_MAX)) <= 0)
			continue;
		if (n == STRAY_CMDLINE_MAX ||
		    (rc = stray_parse(buf, n, name, vm)) != 1)
			continue;
		vm->vm_pid = pid;
		if (qemu_starttime(pid, &vm->vm_starttime) == -1 ||
		    qemu_identity(pid, vm->vm_starttime, vm->vm_argv,
		    vm->vm_argc) != 1)
			rc = 0;		/* it ended while we looked */
	}
	closedir(dir);
	free(buf);
	return (rc);
}
