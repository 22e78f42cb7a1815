/*
 * Image verification: castra-imgd's hashing of a cached image (the
 * sliced hashjob of castra-imgd/verify.c under libevent, as imgd runs
 * it) against sha256sum(1) on the same 1 GiB file, in the same run,
 * alternating.  Both read from the page cache after a first read, so
 * the hashing is what is measured.  Prints the best time of each and
 * the throughput ratio imgd / sha256sum; the budget is >= 0.9.
 *
 * usage: verify [mib [rounds]]
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../castra-imgd/imgd.h"

/* Unused here, but verify.c's header names them. */
struct imgd_conf	 imgd_conf;
int			 imgd_dirfd = -1;

static char	 bench_sha[SHA256_HEX_LEN + 1];

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
make_file(const char *path, size_t mib)
{
	unsigned char	*buf;
	size_t		 i, j;
	uint32_t	 x = 2463534242U;
	int		 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", path);
	if ((buf = malloc(1024 * 1024)) == NULL)
		err(1, NULL);
	for (i = 0; i < mib; i++) {
		for (j = 0; j < 1024 * 1024; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[j] = x;
		}
		if (write(fd, buf, 1024 * 1024) != 1024 * 1024)
			err(1, "%s", path);
	}
	free(buf);
	close(fd);
}

static double
time_sha256sum(const char *path)
{
	double	 t0 = now();
	pid_t	 pid;
	int	 status, null;

	switch (pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		if ((null = open("/dev/null", O_WRONLY)) != -1)
			dup2(null, STDOUT_FILENO);
		execlp("sha256sum", "sha256sum", path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "sha256sum %s failed", path);
	return (now() - t0);
}

static void
hashed(void *arg, int error, struct verify *v)
{
	if (error != 0)
		errx(1, "hashjob: %s", strerror(error));
	verify_end(v, bench_sha, NULL);
}

static double
time_imgd(const char *path)
{
	struct verify	 v;
	double		 t0 = now();
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		err(1, "%s", path);
	memset(&v, 0, sizeof(v));
	if (verify_init(&v, 0) == -1)
		errx(1, "verify_init: out of memory");
	if (hashjob_start(fd, -1, &v, NULL, hashed, NULL) == NULL)
		err(1, "hashjob_start");
	event_dispatch();
	verify_free(&v);
	close(fd);
	return (now() - t0);
}

int
main(int argc, char *argv[])
{
	char	 dir[] = "/tmp/castra-bench-verify.XXXXXX", path[64];
	double	 t, best_sum = 1e9, best_imgd = 1e9;
	size_t	 mib = 1024;
	int	 rounds = 3, i;

	if (argc > 1)
		mib = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		rounds = atoi(argv[2]);
	if (mib == 0 || rounds <= 0)
		errx(1, "usage: verify [mib [rounds]]");
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	snprintf(path, sizeof(path), "%s/image", dir);
	make_file(path, mib);
	event_init();

	time_sha256sum(path);		/* into the page cache */
	for (i = 0; i < rounds; i++) {
		if ((t = time_sha256sum(path)) < best_sum)
			best_sum = t;
		if ((t = time_imgd(path)) < best_imgd)
			best_imgd = t;
	}
	unlink(path);
	rmdir(dir);
	printf("verify %zu MiB: sha256sum %.3f s (%.0f MiB/s), imgd %.3f s "
	    "(%.0f MiB/s)\n", mib, best_sum, mib / best_sum, best_imgd,
	    mib / best_imgd);
	printf("verify ratio %.2f (imgd throughput / sha256sum; budget "
	    ">= 0.90)\n", best_sum / best_imgd);
	return (0);
}
