/*
 * castra logs [-f] [-n lines] [vm | broker]: the last lines of the
 * broker's log and of each VM's QEMU and console logs, each line
 * labelled with its source; -f keeps following them.
 */

#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"

struct logs_out {
	int	 lg_tty;
	int	 lg_follow;
};

/*
 * A console may print anything; on a terminal, control bytes other
 * than tab are shown escaped so that a guest cannot drive the terminal.
 */
static void
logs_write(const char *p, size_t len, int tty)
{
	unsigned char	 ch;
	size_t		 i;

	if (!tty) {
		fwrite(p, 1, len, stdout);
		return;
	}
	for (i = 0; i < len; i++) {
		ch = p[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			printf("\\%03o", ch);
		else
			putchar(ch);
	}
}

static int
logs_line(const char *label, const char *line, size_t len, void *arg)
{
	struct logs_out	*lg = arg;

	printf("[%s] ", label);
	logs_write(line, len, lg->lg_tty);
	putchar('\n');
	if (lg->lg_follow && fflush(stdout) == EOF)
		return (-1);
	return (ferror(stdout) ? -1 : 0);
}

int
cmd_logs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bootstrap",	no_argument,		NULL,	'b' },
		{ "follow",	no_argument,		NULL,	'f' },
		{ "lines",	required_argument,	NULL,	'n' },
		{ NULL,		0,			NULL,	0 }
	};
	struct castra_logs_options	 lo;
	struct castra_error		 ce;
	struct logs_out			 lg;
	struct castra			*c;
	const char			*errstr;
	int				 ch, bootstrap = 0;

	memset(&lo, 0, sizeof(lo));
	lo.lo_lines = 200;
	while ((ch = getopt_long(argc, argv, "fn:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			bootstrap = 1;
			break;
		case 'f':
			lo.lo_follow = 1;
			break;
		case 'n':
			lo.lo_lines = strtonum(optarg, 0, INT_MAX, &errstr);
			if (errstr != NULL)
				errx(EXIT_USAGE, "-n %s: %s; give a number of "
				    "lines", optarg, errstr);
			break;
		default:
			cli_usage("logs");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		cli_usage("logs");
	if (argc == 1)
		lo.lo_source = argv[0];

	memset(&lg, 0, sizeof(lg));
	lg.lg_tty = isatty(STDOUT_FILENO);
	lg.lg_follow = lo.lo_follow;
	c = cli_open();
	if (bootstrap) {
		/* The latest bootstrap run log: a whole file, no follow. */
		if (lo.lo_follow)
			cli_usage("logs");
		if (castra_bootstrap_logs(c, lo.lo_source, logs_line, &lg,
		    &ce) == -1)
			cli_fail(&ce);
	} else if (castra_logs(c, &lo, logs_line, &lg, &ce) == -1)
		cli_fail(&ce);
	castra_close(c);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(EXIT_IOERR, "stdout");
	return (0);
}
