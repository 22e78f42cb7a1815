/*
 * bench/status: `castra status --json` for a project of 16 VMs, first
 * with empty event logs, then with 1 GiB ones (sparse: status must not
 * read them, so their bytes need not be real).  Prints the median of
 * each and their ratio; DESIGN.md's budget is 5 ms and a ratio of 1.1.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_VMS	16
#define BENCH_RUNS	201
#define BENCH_LOG_SIZE	((off_t)1 << 30)

extern char	**environ;

static char	 bench_dir[PATH_MAX];

static void
bench_write(const char *path, const char *text)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fputs(text, fp);
	if (fclose(fp) == EOF)
		err(1, "%s", path);
}

/* Field 22 of /proc/self/stat, counted from after the name. */
static unsigned long long
bench_starttime(void)
{
	char			 buf[1024], *p;
	unsigned long long	 start;
	FILE			*fp;
	size_t			 n;
	int			 i;

	if ((fp = fopen("/proc/self/stat", "r")) == NULL)
		err(1, "/proc/self/stat");
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		errx(1, "/proc/self/stat: no name");
	for (i = 2; i < 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		errx(1, "/proc/self/stat: no start time");
	return (start);
}

/* A project of 16 running VMs whose handshakes are fresh. */
static void
bench_project(void)
{
	char		 path[2 * PATH_MAX + 64], text[1024];
	long long	 now;
	unsigned long long start;
	struct timespec	 ts;
	int		 i;

	start = bench_starttime();
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(path, sizeof(path), "%s/castra.conf", bench_dir);
	snprintf(text, sizeof(text), "project \"bench\"\nstate \"st\"\n"
	    "vm \"vm\" {\n\tdisk \"base.qcow2\"\n\tcount %d\n"
	    "\tforward tcp 20000 to 22\n}\n", BENCH_VMS);
	bench_write(path, text);
	snprintf(path, sizeof(path), "mkdir -p '%s/st/vms' "
	    "'%s/st/handshakes'", bench_dir, bench_dir);
	if (system(path) != 0)
		errx(1, "mkdir failed");
	for (i = 0; i < BENCH_VMS; i++) {
		snprintf(path, sizeof(path), "%s/st/vms/vm-%d.json",
		    bench_dir, i);
		/* This process stands in for QEMU: it is alive. */
		snprintf(text, sizeof(text), "{\"name\":\"vm-%d\",\"pid\":%ld,"
		    "\"start_time\":%llu,\"accel\":\"tcg\",\"cpus\":1,"
		    "\"memory_mib\":256,\"state\":\"running\","
		    "\"up_at_ms\":%lld,"
		    "\"launched_at_ms\":%lld,\"first_handshake_at_ms\":%lld}\n",
		    i, (long)getpid(), start, now - 5000, now - 4800,
		    now - 3400);
		bench_write(path, text);
		snprintf(path, sizeof(path), "%s/st/handshakes/vm-%d.json",
		    bench_dir, i);
		snprintf(text, sizeof(text), "{\"vm\":\"vm-%d\",\"timestamp\":"
		    "%lld,\"timestamp_ms\":%lld,\"capabilities\":[\"bus-v1\"],"
		    "\"bus\":{\"topics\":[\"broadcast\"],"
		    "\"last_heartbeat_ms\":%lld}}\n", i, now / 1000, now,
		    now);
		bench_write(path, text);
	}
}

static void
bench_logs(off_t size)
{
	static const char *const logs[] = {
		"handshake-events.jsonl", "bus-events.jsonl"
	};
	char	 path[PATH_MAX + 64];
	size_t	 i;
	int	 fd;

	for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		snprintf(path, sizeof(path), "%s/st/handshakes/%s", bench_dir,
		    logs[i]);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) ==
		    -1 || ftruncate(fd, size) == -1)
			err(1, "%s", path);
		close(fd);
	}
}

static int
bench_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* The wall time of one `castra status --json`, in ms. */
static double
bench_once(const char *castra, char **argv, posix_spawn_file_actions_t *fa)
{
	struct timespec	 t0, t1;
	pid_t		 pid;
	int		 status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (posix_spawn(&pid, castra, fa, NULL, argv, environ) != 0)
		err(1, "%s", castra);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "castra status failed");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0.tv_sec) * 1e3 +
	    (t1.tv_nsec - t0.tv_nsec) / 1e6);
}

/*
 * Median times with empty and with large logs, the runs interleaved
 * so that both see the same load on the machine.
 */
static void
bench_status(const char *castra, const char *config, double *empty,
    double *big)
{
	posix_spawn_file_actions_t	 fa;
	double				 e[BENCH_RUNS], b[BENCH_RUNS];
	char				*argv[] = { "castra", "-c",
	    (char *)config, "status", "--json", NULL };
	int				 i;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (i = 0; i < BENCH_RUNS; i++) {
		bench_logs(0);
		e[i] = bench_once(castra, argv, &fa);
		bench_logs(BENCH_LOG_SIZE);
		b[i] = bench_once(castra, argv, &fa);
	}
	posix_spawn_file_actions_destroy(&fa);
	qsort(e, BENCH_RUNS, sizeof(e[0]), bench_cmp);
	qsort(b, BENCH_RUNS, sizeof(b[0]), bench_cmp);
	*empty = e[BENCH_RUNS / 2];
	*big = b[BENCH_RUNS / 2];
}

int
main(void)
{
	const char	*bindir;
	char		 castra[PATH_MAX], config[PATH_MAX + 16];
	char		 rm[PATH_MAX + 16];
	double		 empty, big;

	if ((bindir = getenv("CASTRA_BINDIR")) == NULL)
		bindir = "build/bin";
	snprintf(castra, sizeof(castra), "%s/castra", bindir);
	strlcpy(bench_dir, "/tmp/castra-bench-status.XXXXXX",
	    sizeof(bench_dir));
	if (mkdtemp(bench_dir) == NULL)
		err(1, "mkdtemp");
	snprintf(config, sizeof(config), "%s/castra.conf", bench_dir);
	bench_project();

	bench_status(castra, config, &empty, &big);

	printf("castra status --json, %d VMs: %.3f ms with empty event "
	    "logs, %.3f ms with 1 GiB ones\n", BENCH_VMS, empty, big);
	printf("ratio %.3f (budget 1.1); absolute %.3f ms (budget 5)\n",
	    big / empty, big);
	snprintf(rm, sizeof(rm), "rm -rf '%s'", bench_dir);
	if (system(rm) != 0)
		warnx("%s: not removed", bench_dir);
	return (0);
}
