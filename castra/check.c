/*
 * castra check, and castra -n: parse the project file and print it in
 * full, every macro expanded and every default written out, or print
 * every error in it.  Nothing is started and castrad is not asked.
 *
 * The parser is libcastra-internal API; castra links the static
 * library, and checking needs the configuration itself rather than an
 * open project.
 */

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"
#include "../lib/config.h"

int
cmd_check(int argc, char **argv)
{
	struct config	*cf;
	char		*errs = NULL;
	int		 saved;

	/* castra -n may be followed by the word check, harmlessly. */
	if (argc > 1 && strcmp(argv[1], "check") == 0) {
		argc--;
		argv++;
	}
	if (getopt(argc, argv, "") != -1)
		cli_usage("check");
	if (optind != argc)
		cli_usage("check");

	if ((cf = config_parse_file(cli.g_config, cli.g_defines,
	    &errs)) == NULL) {
		saved = errno;
		if (errs != NULL)
			fputs(errs, stderr);
		else
			warnc(saved, "%s", cli.g_config != NULL ? cli.g_config :
			    "configuration");
		free(errs);
		if (saved == EINVAL)
			return (EXIT_DATAERR);
		if (saved == ENOMEM)
			return (EXIT_SOFTWARE);
		return (EXIT_NOINPUT);
	}
	config_print(stdout, cf);
	config_free(cf);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(EXIT_IOERR, "stdout");
	return (0);
}
