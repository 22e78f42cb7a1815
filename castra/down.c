/*
 * castra down: stop the project's VMs cooperatively and throw their
 * disk changes away.
 */

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "castra.h"

static uint32_t
seconds(const char *flag, const char *arg)
{
	const char	*errstr;
	uint32_t	 s;

	s = strtonum(arg, 1, 3600, &errstr);
	if (errstr != NULL)
		errx(EXIT_USAGE, "%s %s: seconds from 1 to 3600", flag, arg);
	return (s);
}

int
cmd_down(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "graceful-wait", required_argument, NULL, 'g' },
		{ "sigterm-wait", required_argument, NULL, 't' },
		{ "sigkill-wait", required_argument, NULL, 'k' },
		{ NULL,		0,		    NULL, 0 }
	};
	struct castra_down_options	 dn;
	struct castra_error		 ce;
	struct castra			*c;
	int				 ch;

	memset(&dn, 0, sizeof(dn));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			dn.do_wait_graceful = seconds("--graceful-wait",
			    optarg);
			break;
		case 't':
			dn.do_wait_sigterm = seconds("--sigterm-wait", optarg);
			break;
		case 'k':
			dn.do_wait_sigkill = seconds("--sigkill-wait", optarg);
			break;
		default:
			cli_usage("down");
		}
	}
	if (optind != argc)
		cli_usage("down");

	c = cli_open();
	if (castra_down(c, &dn, cli_event, NULL, &ce) == -1)
		cli_fail(&ce);
	printf("%s is down\n", castra_project_name(c));
	castra_close(c);
	return (0);
}
