/*
 * castra bus publish [--topic topic] --payload json
 * castra bus subscribe [--topic topic ...]
 * castra bus tail [-f] [--vm name]
 *
 * The first two open a host session on the project's broker; tail
 * reads the bus logs the broker keeps in the state root.
 */

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"

#define BUS_TAIL_LINES	200
#define BUS_TOPICS_MAX	16

static int
bus_publish(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "payload", required_argument,	NULL, 'p' },
		{ "topic",   required_argument,	NULL, 't' },
		{ NULL,	     0,			NULL, 0 }
	};
	struct castra_error	 ce;
	struct castra_bus	*cb;
	struct castra		*c;
	const char		*topic = "broadcast", *payload = NULL;
	int			 ch, delivered = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			payload = optarg;
			break;
		case 't':
			topic = optarg;
			break;
		default:
			cli_usage("bus");
		}
	}
	if (payload == NULL || optind != argc)
		cli_usage("bus");

	c = cli_open();
	if (castra_bus_open(c, &cb, &ce) == -1 ||
	    castra_bus_publish(cb, topic, payload, &delivered, &ce) == -1)
		cli_fail(&ce);
	printf("published to %s, delivered to %d session%s\n", topic,
	    delivered, delivered == 1 ? "" : "s");
	castra_bus_close(cb);
	castra_close(c);
	return (0);
}

static int
bus_subscribe(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "topic", required_argument,	NULL, 't' },
		{ NULL,	   0,			NULL, 0 }
	};
	struct castra_error	 ce;
	struct castra_bus	*cb;
	struct castra		*c;
	const char		*topics[BUS_TOPICS_MAX];
	char			*msg;
	int			 ch, i, ntopics = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (ntopics == BUS_TOPICS_MAX)
				errx(EXIT_USAGE, "at most %d topics",
				    BUS_TOPICS_MAX);
			topics[ntopics++] = optarg;
			break;
		default:
			cli_usage("bus");
		}
	}
	if (optind != argc)
		cli_usage("bus");
	if (ntopics == 0)
		topics[ntopics++] = "broadcast";

	c = cli_open();
	if (castra_bus_open(c, &cb, &ce) == -1)
		cli_fail(&ce);
	for (i = 0; i < ntopics; i++)
		if (castra_bus_subscribe(cb, topics[i], &ce) == -1)
			cli_fail(&ce);
	/* One message per line, as it comes, until the broker hangs up. */
	while (castra_bus_next(cb, &msg, -1, &ce) == 1) {
		printf("%s\n", msg);
		free(msg);
		if (fflush(stdout) == EOF)
			err(EXIT_IOERR, "stdout");
	}
	castra_bus_close(cb);
	castra_close(c);
	cli_fail(&ce);
}

static int
bus_line(const char *label, const char *line, size_t len, void *arg)
{
	int	*follow = arg;

	fwrite(line, 1, len, stdout);
	putchar('\n');
	if (*follow && fflush(stdout) == EOF)
		return (-1);
	return (ferror(stdout) ? -1 : 0);
}

static int
bus_tail(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "follow", no_argument,	NULL, 'f' },
		{ "vm",	    required_argument,	NULL, 'v' },
		{ NULL,	    0,			NULL, 0 }
	};
	struct castra_error	 ce;
	struct castra		*c;
	const char		*vm = NULL;
	int			 ch, follow = 0;

	while ((ch = getopt_long(argc, argv, "f", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			follow = 1;
			break;
		case 'v':
			vm = optarg;
			break;
		default:
			cli_usage("bus");
		}
	}
	if (optind != argc)
		cli_usage("bus");

	c = cli_open();
	if (castra_bus_tail(c, vm, BUS_TAIL_LINES, follow, bus_line, &follow,
	    &ce) == -1)
		cli_fail(&ce);
	castra_close(c);
	if (fflush(stdout) == EOF)
		err(EXIT_IOERR, "stdout");
	return (0);
}

int
cmd_bus(int argc, char **argv)
{
	if (argc < 2)
		cli_usage("bus");
	argc--;
	argv++;
	optind = 0;
	if (strcmp(argv[0], "publish") == 0)
		return (bus_publish(argc, argv));
	if (strcmp(argv[0], "subscribe") == 0)
		return (bus_subscribe(argc, argv));
	if (strcmp(argv[0], "tail") == 0)
		return (bus_tail(argc, argv));
	cli_usage("bus");
}
