/*
 * castra status [--json]: the project's VMs, told from the state files
 * alone.  The table is for people; --json is one line for programs,
 * its fields as castra(1) documents them.
 */

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "castra.h"

#define STATUS_COLUMNS	7

static const char *const status_heads[STATUS_COLUMNS] = {
	"VM", "STATE", "CPU/MEM", "UPTIME", "BROKER", "BUS", "FORWARDS"
};

static int	 status_colour;

/* 812ms, 3.0s, 1m05s, 2h03m: short enough for a column. */
static void
status_age(char *buf, size_t len, int64_t ms)
{
	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(buf, len, "%lld.%llds", (long long)ms / 1000,
		    (long long)(ms % 1000) / 100);
	else if (ms < 3600000)
		snprintf(buf, len, "%lldm%02llds", (long long)ms / 60000,
		    (long long)(ms / 1000) % 60);
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)ms / 3600000,
		    (long long)(ms / 60000) % 60);
}

static void
status_uptime(char *buf, size_t len, int64_t ms)
{
	long long	 s = ms / 1000;

	if (ms < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%02lld:%02lld:%02lld", s / 3600,
		    (s / 60) % 60, s % 60);
}

static void
status_bus(char *buf, size_t len, const struct castra_vm_status *vs)
{
	char	 age[32];
	size_t	 i;

	buf[0] = '\0';
	if (vs->vs_topics == NULL || strcmp(vs->vs_broker, "offline") == 0) {
		strlcpy(buf, "-", len);
		return;
	}
	for (i = 0; vs->vs_topics[i] != NULL; i++) {
		if (i > 0)
			strlcat(buf, ",", len);
		strlcat(buf, vs->vs_topics[i], len);
	}
	if (i == 0)
		strlcat(buf, "idle", len);
	if (vs->vs_heartbeat_age_ms >= 0) {
		status_age(age, sizeof(age), vs->vs_heartbeat_age_ms);
		strlcat(buf, " hb ", len);
		strlcat(buf, age, len);
	}
}

static void
status_forwards(char *buf, size_t len, const struct castra_vm_status *vs)
{
	char	 one[96];
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < vs->vs_nforwards; i++) {
		if (strcmp(vs->vs_forwards[i].fw_bind, "127.0.0.1") == 0)
			snprintf(one, sizeof(one), "%u->%u/%s",
			    vs->vs_forwards[i].fw_host,
			    vs->vs_forwards[i].fw_guest,
			    vs->vs_forwards[i].fw_proto);
		else
			snprintf(one, sizeof(one), "%s:%u->%u/%s",
			    vs->vs_forwards[i].fw_bind,
			    vs->vs_forwards[i].fw_host,
			    vs->vs_forwards[i].fw_guest,
			    vs->vs_forwards[i].fw_proto);
		if (i > 0)
			strlcat(buf, ", ", len);
		strlcat(buf, one, len);
	}
	if (i == 0)
		strlcpy(buf, "-", len);
}

static const char *
status_colour_of(int col, const char *text)
{
	if (col == 1) {
		if (strcmp(text, "running") == 0)
			return ("32");
		if (strcmp(text, "starting") == 0 ||
		    strcmp(text, "stopping") == 0)
			return ("33");
		if (strcmp(text, "error") == 0)
			return ("31");
	} else if (col == 4) {
		if (strcmp(text, "reachable") == 0)
			return ("32");
		if (strcmp(text, "waiting") == 0)
			return ("33");
		return ("31");
	}
	return (NULL);
}

static void
status_cell(int col, const char *text, int width, int last)
{
	const char	*colour = NULL;

	/* Never NULL; said so for gcc, which cannot tell under -fsanitize. */
	if (text == NULL)
		text = "";
	if (status_colour)
		colour = status_colour_of(col, text);
	if (colour != NULL)
		printf("\033[%sm", colour);
	if (last)
		printf("%s", text);
	else
		printf("%-*s", width, text);
	if (colour != NULL)
		printf("\033[0m");
	printf(last ? "\n" : "  ");
}

static void
status_header(const struct castra_status *st)
{
	char	 age[32];

	printf("Project: %s (%s)\n", st->st_project, st->st_config);
	printf("State:   %s\n", st->st_state_root);
	if (st->st_broker_pid > 0)
		printf("Broker:  listening on 127.0.0.1:%u (pid %d)\n",
		    st->st_broker_port, st->st_broker_pid);
	else
		printf("Broker:  stopped (port %u); `castra up` starts it\n",
		    st->st_broker_port);
	if (st->st_last_handshake_vm != NULL) {
		status_age(age, sizeof(age), st->st_last_handshake_age_ms);
		printf("Reachable: %s, last handshake %s ago from %s\n",
		    st->st_reachable ? "yes" : "no", age,
		    st->st_last_handshake_vm);
	} else
		printf("Reachable: no, no guest has said hello yet\n");
}

static void
status_table(const struct castra_status *st)
{
	char	 (*cells)[STATUS_COLUMNS][256];
	int	 width[STATUS_COLUMNS];
	size_t	 i, j;

	status_header(st);
	if (st->st_nvms == 0) {
		printf("\nNo VMs are declared in %s.\n", st->st_config);
		return;
	}
	if ((cells = calloc(st->st_nvms, sizeof(*cells))) == NULL)
		err(EXIT_SOFTWARE, "status");
	for (j = 0; j < STATUS_COLUMNS; j++)
		width[j] = strlen(status_heads[j]);
	for (i = 0; i < st->st_nvms; i++) {
		const struct castra_vm_status *vs = &st->st_vms[i];

		snprintf(cells[i][0], 256, "%s", vs->vs_name);
		snprintf(cells[i][1], 256, "%s", vs->vs_state);
		snprintf(cells[i][2], 256, "%u/%uM", vs->vs_cpus,
		    vs->vs_memory_mib);
		status_uptime(cells[i][3], 256, vs->vs_uptime_ms);
		snprintf(cells[i][4], 256, "%s", vs->vs_broker);
		status_bus(cells[i][5], 256, vs);
		status_forwards(cells[i][6], 256, vs);
		for (j = 0; j < STATUS_COLUMNS; j++)
			if ((int)strlen(cells[i][j]) > width[j])
				width[j] = strlen(cells[i][j]);
	}
	printf("\n");
	for (j = 0; j < STATUS_COLUMNS; j++) {
		if (j == STATUS_COLUMNS - 1)
			printf("%s\n", status_heads[j]);
		else
			printf("%-*s  ", width[j], status_heads[j]);
	}
	for (i = 0; i < st->st_nvms; i++)
		for (j = 0; j < STATUS_COLUMNS; j++)
			status_cell(j, cells[i][j], width[j],
			    j == STATUS_COLUMNS - 1);
	free(cells);
	printf("\n"
	    "STATE: stopped, starting, running, stopping or error.\n"
	    "BROKER: reachable = the guest said hello within 45s (even if "
	    "it has stopped\n"
	    "  since); waiting = the VM is up but no fresh hello; offline = "
	    "neither.\n"
	    "BUS: topics the guest subscribed to, and the age of its "
	    "last heartbeat.\n");
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL,	'j' },
		{ NULL,		0,		NULL,	0 }
	};
	struct castra_status	*st;
	struct castra_error	 ce;
	struct castra		*c;
	char			*json;
	size_t			 i;
	int			 ch, jflag = 0;

	while ((ch = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			jflag = 1;
			break;
		default:
			cli_usage("status");
		}
	}
	if (optind != argc)
		cli_usage("status");

	c = cli_open();
	if (castra_status(c, &st, &ce) == -1)
		cli_fail(&ce);
	for (i = 0; st->st_warnings != NULL && st->st_warnings[i]; i++)
		fprintf(stderr, "castra: warning: %s\n", st->st_warnings[i]);
	if (jflag) {
		if ((json = castra_status_json(st)) == NULL)
			errx(EXIT_SOFTWARE, "status: out of memory");
		printf("%s\n", json);
		free(json);
	} else {
		status_colour = isatty(STDOUT_FILENO) &&
		    getenv("NO_COLOR") == NULL;
		status_table(st);
	}
	castra_status_free(st);
	castra_close(c);
	if (fflush(stdout) == EOF)
		err(EXIT_IOERR, "stdout");
	return (0);
}
