/*
 * What each child gives up once it has started: as root, a chroot (where
 * the child needs no paths) and the unprivileged _castra user; as an
 * ordinary user, Landlock rules for the paths it still needs; and in
 * both cases a seccomp allowlist of the system calls it still makes.
 *
 * sandbox_enter() adds to sb_syscalls a base list that every child
 * needs (lib/sandbox.c says what and why: imsg, libevent, malloc,
 * stderr and syslog, exit); mmap and mprotect are in it only without
 * PROT_EXEC, and a child that lists them itself gets them whole.  A
 * forbidden call kills the child with SIGSYS; under -S it is named on
 * stderr and fails with ENOSYS instead.  It returns only on success.
 *
 * Landlock handles every right the running kernel knows, so whatever
 * the child does not ask for is denied: paths not in sb_paths, TCP
 * bind and connect unless sb_allow says so, signals to processes
 * outside the child's domain (QEMU started by an earlier instance of
 * the child) unless SANDBOX_SIGNAL, and abstract unix sockets.
 */

#ifndef CASTRA_SANDBOX_H
#define CASTRA_SANDBOX_H

#include <sys/types.h>

#include <stddef.h>

#define SANDBOX_USER	"_castra"

struct sandbox_path {
	const char	*sp_path;
	int		 sp_access;
#define SANDBOX_READ	 0x01	/* read files, list directories */
#define SANDBOX_WRITE	 0x02	/* create, write and remove beneath;
				   ioctl on devices (/dev/kvm) */
#define SANDBOX_EXEC	 0x04	/* execute; ld.so needs READ too */
};

struct sandbox {
	const char		*sb_name;
	const char		*sb_chroot;	/* as root; NULL: none */
	const struct sandbox_path *sb_paths;	/* Landlock, user mode */
	size_t			 sb_npaths;
	const int		*sb_syscalls;	/* the allowlist */
	size_t			 sb_nsyscalls;
	int			 sb_allow;	/* Landlock, user mode */
#define SANDBOX_TCP_BIND	 0x01	/* bind any TCP port */
#define SANDBOX_TCP_CONNECT	 0x02	/* connect to any TCP port */
#define SANDBOX_SIGNAL		 0x04	/* signal processes outside */
};

void	sandbox_enter(const struct sandbox *);
int	sandbox_user(uid_t *, gid_t *);

#endif /* CASTRA_SANDBOX_H */
