/*
 * castra(1): the command.  Each command lives in its own file and is
 * built only on libcastra's public API (castra.h of lib/).
 */

#ifndef CASTRA_CLI_H
#define CASTRA_CLI_H

#include "../lib/castra.h"

/* sysexits(3) codes, as castra(1) documents them */
#define EXIT_USAGE	64
#define EXIT_DATAERR	65
#define EXIT_NOINPUT	66
#define EXIT_UNAVAIL	69
#define EXIT_SOFTWARE	70
#define EXIT_CANTCREAT	73
#define EXIT_IOERR	74

struct command {
	const char	*cmd_name;
	int		(*cmd_main)(int, char **);
	const char	*cmd_usage;
};

/* Global options, set before a command runs. */
struct cli_globals {
	const char	*g_config;	/* -c */
	char		*g_defines[32];	/* -D, NULL-ended */
	int		 g_ndefines;
};

extern struct cli_globals	 cli;

/* castra.c */
struct castra	*cli_open(void);
__attribute__((__noreturn__)) void
		 cli_fail(const struct castra_error *);
__attribute__((__noreturn__)) void
		 cli_usage(const char *);

/* events.c */
void		 cli_event(const struct castra_event *, void *);
void		 cli_bytes(uint64_t, char *, size_t);

/* One function per command, in a file of its name. */
int	cmd_init(int, char **);		/* init.c */
int	cmd_check(int, char **);	/* check.c */
int	cmd_up(int, char **);		/* up.c */
int	cmd_down(int, char **);		/* down.c */
int	cmd_status(int, char **);	/* status.c */
int	cmd_ports(int, char **);	/* ports.c */
int	cmd_logs(int, char **);		/* logs.c */
int	cmd_clean(int, char **);	/* clean.c */
int	cmd_bus(int, char **);		/* bus.c */
int	cmd_image(int, char **);	/* image.c */

#endif /* CASTRA_CLI_H */
