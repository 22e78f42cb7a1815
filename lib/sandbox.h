/*
 * What each child gives up once it has started: as root, a chroot (where
 * the child needs no paths) and the unprivileged _castra user; as an
 * ordinary user, Landlock rules for the paths it still needs; and in
 * both cases a seccomp allowlist of the system calls it still makes.
 */

#ifndef CASTRA_SANDBOX_H
#define CASTRA_SANDBOX_H

#include <sys/types.h>

#include <stddef.h>

#define SANDBOX_USER	"_castra"

struct sandbox_path {
	const char	*sp_path;
	int		 sp_access;
#define SANDBOX_READ	 0x01
#define SANDBOX_WRITE	 0x02	/* create, write and remove beneath */
#define SANDBOX_EXEC	 0x04
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
