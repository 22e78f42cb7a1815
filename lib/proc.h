/*
 * The process framework: castrad starts its children with fork and a
 * fresh exec, each with its imsg channel on PROC_PARENT_FD, and both
 * sides drive their channels with libevent.
 */

#ifndef CASTRA_PROC_H
#define CASTRA_PROC_H

#include <sys/types.h>

#include <event.h>

#include "imsg.h"

struct imsgev {
	struct imsgbuf	 ibuf;
	void		(*handler)(int, short, void *);
	struct event	 ev;
	void		*data;
	short		 events;
};

enum procid {
	PROC_PARENT,
	PROC_BROKER,
	PROC_VMM,
	PROC_IMGD,
	PROC_MAX
};

struct proc {
	enum procid	 p_id;
	const char	*p_name;	/* program and title, "castra-vmm" */
	int		(*p_dispatch)(struct proc *, struct imsg *);
	void		(*p_started)(struct proc *);
	pid_t		 p_pid;
	int		 p_alive;
	int		 p_restarts;
	struct imsgev	 p_iev;
	struct event	 p_restart_ev;
};

/* Options shared by castrad and its children. */
struct proc_env {
	int		 pe_debug;	/* -d: foreground, stderr */
	int		 pe_verbose;	/* -v, repeated */
	const char	*pe_home;	/* -H: CASTRA_HOME */
	const char	*pe_bindir;	/* where the children are */
	int		 pe_seccomp_log; /* -S: log forbidden calls */
};

extern struct proc_env	 proc_env;

/* imsgev: an imsg channel under libevent */
void	 imsgev_init(struct imsgev *, int, void (*)(int, short, void *),
	    void *);
void	 imsgev_add(struct imsgev *);
void	 imsgev_clear(struct imsgev *);
int	 imsgev_compose(struct imsgev *, uint32_t, uint32_t, pid_t, int,
	    const void *, size_t);
int	 imsgev_read(struct imsgev *, short);

/* castrad's side */
void	 proc_init(struct proc *, size_t);
void	 proc_start(struct proc *);
void	 proc_reap(void);
void	 proc_shutdown(void);
int	 proc_compose(enum procid, uint32_t, uint32_t, int, const void *,
	    size_t);
struct proc *proc_byid(enum procid);

/* a child's side */
void	 proc_child_init(int, char **, const char *);
void	 proc_child_listen(int (*)(struct imsg *));
int	 proc_parent_compose(uint32_t, uint32_t, int, const void *, size_t);

#endif /* CASTRA_PROC_H */
