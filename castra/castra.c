/*
 * castra(1): boot throwaway QEMU development VMs for a project.
 *
 * This file holds the global options and the table of commands; each
 * command is in a file of its own name.
 */

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"

struct cli_globals	 cli;

static const struct command commands[] = {
	{ "bus",	cmd_bus,	"bus publish [--topic topic] "
	    "--payload json | subscribe [--topic topic] | "
	    "tail [-f] [--vm name]" },
	{ "check",	cmd_check,	"check" },
	{ "clean",	cmd_clean,	"clean [--dry-run] [--force] "
	    "[--images] [--keep-handshakes] [--keep-logs]" },
	{ "down",	cmd_down,	"down [--graceful-wait s] "
	    "[--sigterm-wait s] [--sigkill-wait s]" },
	{ "image",	cmd_image,	"image list | pull [name] | "
	    "import path | rm sha256 | prune [--age days] [--size bytes]" },
	{ "init",	cmd_init,	"init [--force] [-n name] [-o path]" },
	{ "logs",	cmd_logs,	"logs [-f] [-n lines] [vm | broker]\n"
	    "       castra logs --bootstrap [vm]" },
	{ "ports",	cmd_ports,	"ports [--active]" },
	{ "status",	cmd_status,	"status [--json]" },
	{ "up",		cmd_up,		"up [--broker-only] [--force] "
	    "[--image path] [--wait] [--plan]\n"
	    "                 [--bootstrap mode | vm=mode[,vm=mode...]]" },
};

__attribute__((__noreturn__)) static void
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: castra [-nV] [-c file] [-D macro=value] "
	    "command [argument ...]\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "       castra %s\n", commands[i].cmd_usage);
	exit(EXIT_USAGE);
}

/* A command's own usage line, then exit 64. */
void
cli_usage(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].cmd_name, name) == 0)
			fprintf(stderr, "usage: castra %s\n",
			    commands[i].cmd_usage);
	exit(EXIT_USAGE);
}

void
cli_fail(const struct castra_error *ce)
{
	fprintf(stderr, "castra: %s\n", ce->ce_message);
	exit(ce->ce_code != 0 ? ce->ce_code : EXIT_SOFTWARE);
}

/* Open the project that the global options name, or exit. */
struct castra *
cli_open(void)
{
	struct castra_open_options	 oo;
	struct castra_error		 ce;
	struct castra			*c;

	memset(&oo, 0, sizeof(oo));
	oo.oo_config = cli.g_config;
	oo.oo_defines = cli.g_defines;
	if (castra_open(&oo, &c, &ce) == -1)
		cli_fail(&ce);
	return (c);
}

__attribute__((__noreturn__)) static void
version(void)
{
	printf("castra %s\n", castra_version());
	exit(0);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "version",	no_argument,	NULL,	'V' },
		{ "help",	no_argument,	NULL,	'h' },
		{ NULL,		0,		NULL,	0 }
	};
	size_t	 i;
	int	 ch, check = 0;

	/* "+": options after the command belong to the command. */
	while ((ch = getopt_long(argc, argv, "+c:D:hnV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			cli.g_config = optarg;
			break;
		case 'D':
			if (strchr(optarg, '=') == NULL ||
			    cli.g_ndefines == (int)(sizeof(cli.g_defines) /
			    sizeof(cli.g_defines[0])) - 1)
				errx(EXIT_USAGE, "-D %s: use -D name=value",
				    optarg);
			cli.g_defines[cli.g_ndefines++] = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			version();
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	optind = 0;	/* each command parses its own options afresh */

	if (check)
		return (cmd_check(argc + 1, argv - 1));
	if (argc == 0)
		usage();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].cmd_name, argv[0]) == 0)
			return (commands[i].cmd_main(argc, argv));
	warnx("unknown command: %s", argv[0]);
	usage();
}
