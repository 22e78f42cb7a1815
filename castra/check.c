/*
 * castra check, and castra -n: parse the project file and print it in
 * full, every macro expanded and every default written out, or print
 * every error in it.  Nothing is started and castrad is not asked.
 *
 * Like every command, it is built on libcastra's public API alone.
 */

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"

int
cmd_check(int argc, char **argv)
{
	struct castra_open_options	 oo;
	struct castra_error		 ce;
	char				*text, *errors;

	/* castra -n may be followed by the word check, harmlessly. */
	if (argc > 1 && strcmp(argv[1], "check") == 0) {
		argc--;
		argv++;
	}
	if (getopt(argc, argv, "") != -1)
		cli_usage("check");
	if (optind != argc)
		cli_usage("check");

	memset(&oo, 0, sizeof(oo));
	oo.oo_config = cli.g_config;
	oo.oo_defines = cli.g_defines;
	if (castra_check(&oo, &text, &errors, &ce) == -1) {
		/* Every error of the file, as file:line: message lines. */
		if (errors != NULL)
			fputs(errors, stderr);
		else
			warnx("%s", ce.ce_message);
		free(errors);
		return (ce.ce_code);
	}
	fputs(text, stdout);
	free(text);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(EXIT_IOERR, "stdout");
	return (0);
}
