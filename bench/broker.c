/*
 * castra-broker(8) under siege: while thousands of hostile connections
 * sit open, each having sent half a word, how many hellos per second
 * does one client get through, how long does one take (p50, p99), and
 * how much broker memory does an idle connection cost?  The same run
 * measures a minimal accept-and-reply loop written here (epoll, a
 * buffer per descriptor, no records) under the same siege, and prints
 * the ratios against it.
 *
 * usage: broker [idle [hellos]]	(defaults 5000 and 2000)
 *
 * Both servers are under siege at the same time and measured in
 * alternating rounds, so that both see the same machine.  The broker is
 * started by regress/broker/driver, which plays castrad.
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_GREETING	"castra-broker 0.1 ready\n"
#define BENCH_HELLO	"hello vm:bench capabilities=bus-v1\n"
#define BENCH_OK	"ok session=0123456789abcdef\n"
#define BENCH_LINE	512
#define BENCH_ROUNDS	10

struct bench_result {
	double	 br_rate;	/* hellos per second */
	double	 br_p50;	/* ms */
	double	 br_p99;
	double	 br_kib_idle;	/* server memory per idle one */
};

static double
bench_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
bench_connect(uint16_t port)
{
	struct sockaddr_in	 sin;
	struct linger		 lg = { 1, 0 };
	int			 s;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	/* Reset at close: runs in a row would run out of ports otherwise. */
	if (setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
		err(1, "SO_LINGER");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "connect 127.0.0.1:%u", port);
	return (s);
}

static void
bench_line(int s, const char *want)
{
	char	 buf[BENCH_LINE];
	size_t	 len = 0;
	ssize_t	 n;

	while (len == 0 || buf[len - 1] != '\n') {
		if (len == sizeof(buf) ||
		    (n = read(s, buf + len, sizeof(buf) - len)) <= 0)
			errx(1, "hello: no answer");
		len += n;
	}
	if (strncmp(buf, want, strlen(want)) != 0)
		errx(1, "hello: got \"%.*s\"", (int)len - 1, buf);
}

/* One whole hello, as a guest does it; its time in ms. */
static double
bench_hello(uint16_t port)
{
	double	 t0 = bench_now();
	int	 s;

	s = bench_connect(port);
	bench_line(s, "castra-broker ");
	if (write(s, BENCH_HELLO, strlen(BENCH_HELLO)) == -1)
		err(1, "write");
	bench_line(s, "ok session=");
	close(s);
	return ((bench_now() - t0) * 1000);
}

static long
bench_rss_kib(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*fp;
	long	 kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(fp);
	return (kib);
}

static int
bench_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static char	 bench_dir[] = "/tmp/castra-bench-broker.XXXXXX";
static pid_t	 bench_pids[2];

/* Whatever way the run ends, leave nothing behind. */
static void
bench_cleanup(void)
{
	char	 cmd[sizeof(bench_dir) + 16];
	int	 i;

	for (i = 0; i < 2; i++)
		if (bench_pids[i] > 0) {
			kill(bench_pids[i], SIGTERM);
			waitpid(bench_pids[i], NULL, 0);
		}
	if (strchr(bench_dir, 'X') == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", bench_dir);
		if (system(cmd) != 0)
			warnx("%s: not removed", bench_dir);
	}
}

struct bench_server {
	const char		*bs_name;
	uint16_t		 bs_port;
	pid_t			 bs_pid;
	int			*bs_idle;
	double			*bs_lat;
	double			 bs_time;	/* spent in measured hellos */
	int			 bs_n;
	struct bench_result	 bs_result;
};

/* The siege: nidle connections that each sent half a word. */
static void
bench_siege(struct bench_server *bs, int nidle, int nhellos)
{
	long	 rss0;
	int	 i;

	if ((bs->bs_lat = calloc(nhellos, sizeof(*bs->bs_lat))) == NULL ||
	    (bs->bs_idle = calloc(nidle + 1, sizeof(*bs->bs_idle))) == NULL)
		err(1, NULL);
	/* Warm up, so that both servers start from their steady state. */
	for (i = 0; i < 50; i++)
		bench_hello(bs->bs_port);
	rss0 = bench_rss_kib(bs->bs_pid);
	for (i = 0; i < nidle; i++) {
		bs->bs_idle[i] = bench_connect(bs->bs_port);
		if (write(bs->bs_idle[i], "hel", 3) == -1)
			err(1, "write");
	}
	/* Every idle one has been accepted once a hello behind it is done. */
	bench_hello(bs->bs_port);
	bs->bs_result.br_kib_idle = nidle == 0 ? 0 :
	    (double)(bench_rss_kib(bs->bs_pid) - rss0) / nidle;
}

static void
bench_round(struct bench_server *bs, int n)
{
	double	 t0 = bench_now();
	int	 i;

	for (i = 0; i < n; i++)
		bs->bs_lat[bs->bs_n++] = bench_hello(bs->bs_port);
	bs->bs_time += bench_now() - t0;
}

static void
bench_finish(struct bench_server *bs, int nidle)
{
	struct bench_result	*br = &bs->bs_result;
	int			 i;

	br->br_rate = bs->bs_n / bs->bs_time;
	qsort(bs->bs_lat, bs->bs_n, sizeof(*bs->bs_lat), bench_cmp);
	br->br_p50 = bs->bs_lat[bs->bs_n / 2];
	br->br_p99 = bs->bs_lat[bs->bs_n * 99 / 100];
	for (i = 0; i < nidle; i++)
		close(bs->bs_idle[i]);
	free(bs->bs_idle);
	free(bs->bs_lat);
}

/*
 * The baseline: accept, greet, read a line into a per-descriptor
 * buffer, answer, close.  No deadline, no records, no parsing.
 */
static void
baseline_serve(int ls)
{
	struct epoll_event	 ev, evs[256];
	static char		 bufs[65536][64];
	static size_t		 lens[65536];
	ssize_t			 w;
	int			 ep, n, i, fd;

	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll_create1");
	ev.events = EPOLLIN;
	ev.data.fd = ls;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		if ((n = epoll_wait(ep, evs, 256, -1)) == -1)
			continue;
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == ls) {
				while ((fd = accept4(ls, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					if (fd >= 65536) {
						close(fd);
						continue;
					}
					lens[fd] = 0;
					if (write(fd, BENCH_GREETING,
					    strlen(BENCH_GREETING)) == -1)
						warn("baseline greeting");
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if ((w = read(fd, bufs[fd] + lens[fd],
			    sizeof(bufs[fd]) - lens[fd])) <= 0) {
				close(fd);
				continue;
			}
			lens[fd] += w;
			if (memchr(bufs[fd], '\n', lens[fd]) == NULL &&
			    lens[fd] < sizeof(bufs[fd]))
				continue;
			if (write(fd, BENCH_OK, strlen(BENCH_OK)) == -1)
				warn("baseline reply");
			close(fd);
		}
	}
}

static pid_t
baseline_start(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	pid_t			 pid;
	int			 ls;

	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, 4096) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &len) == -1)
		err(1, "baseline listener");
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0)
		baseline_serve(ls);
	close(ls);
	return (pid);
}

/* The broker's pid: the child of the driver named castra-broker. */
static pid_t
broker_pid(pid_t driver)
{
	char		 path[300], comm[64];
	struct dirent	*de;
	DIR		*d;
	FILE		*fp;
	pid_t		 pid = -1;
	int		 ppid;

	if ((d = opendir("/proc")) == NULL)
		err(1, "/proc");
	while (pid == -1 && (de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(fp, "%*d (%63[^)]) %*c %d", comm, &ppid) == 2 &&
		    ppid == driver && strcmp(comm, "castra-broker") == 0)
			pid = atoi(de->d_name);
		fclose(fp);
	}
	closedir(d);
	return (pid);
}

static pid_t
broker_start(const char *builddir, const char *dir, uint16_t *port,
    FILE **in)
{
	char	 driver[1024], broker[1024], line[64];
	int	 pin[2], pout[2];
	FILE	*out;
	pid_t	 pid;

	snprintf(driver, sizeof(driver), "%s/regress/broker/driver",
	    builddir);
	snprintf(broker, sizeof(broker), "%s/bin/castra-broker", builddir);
	if (pipe(pin) == -1 || pipe(pout) == -1)
		err(1, "pipe");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		close(pin[1]);
		close(pout[0]);
		/* The idle connections must outlive the measurement. */
		execl(driver, "driver", "-q", "-b", broker, "-d", dir,
		    "-H", "3600", (char *)NULL);
		err(1, "%s", driver);
	}
	close(pin[0]);
	close(pout[1]);
	if ((out = fdopen(pout[0], "r")) == NULL ||
	    (*in = fdopen(pin[1], "w")) == NULL)
		err(1, "fdopen");
	if (fgets(line, sizeof(line), out) == NULL ||
	    sscanf(line, "port %hu", port) != 1)
		errx(1, "driver: no port (is %s built?)", driver);
	return (pid);
}

static void
bench_print(const char *name, struct bench_result *br)
{
	printf("%-9s %9.0f hellos/s  p50 %6.3f ms  p99 %6.3f ms  "
	    "%5.2f KiB/idle connection\n", name, br->br_rate, br->br_p50,
	    br->br_p99, br->br_kib_idle);
}

int
main(int argc, char *argv[])
{
	struct bench_server	 base, brk;
	struct rlimit		 rl;
	const char		*builddir, *errstr;
	FILE			*in;
	int			 nidle = 5000, nhellos = 2000, i;

	if (argc > 1 && (nidle = strtonum(argv[1], 0, 9000, &errstr),
	    errstr != NULL))
		errx(1, "idle %s: %s", argv[1], errstr);
	if (argc > 2 && (nhellos = strtonum(argv[2], BENCH_ROUNDS,
	    1000000, &errstr), errstr != NULL))
		errx(1, "hellos %s: %s", argv[2], errstr);
	if ((builddir = getenv("CASTRA_BUILDDIR")) == NULL)
		builddir = "build";
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < 2 * (rlim_t)nidle + 100)
			errx(1, "%d idle connections need more descriptors "
			    "than %ld", 2 * nidle, (long)rl.rlim_cur);
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&base, 0, sizeof(base));
	memset(&brk, 0, sizeof(brk));

	atexit(bench_cleanup);
	base.bs_name = "baseline";
	base.bs_pid = bench_pids[0] = baseline_start(&base.bs_port);
	if (mkdtemp(bench_dir) == NULL)
		err(1, "mkdtemp");
	chmod(bench_dir, 0755);
	brk.bs_name = "broker";
	bench_pids[1] = broker_start(builddir, bench_dir, &brk.bs_port, &in);
	if ((brk.bs_pid = broker_pid(bench_pids[1])) == -1)
		errx(1, "no castra-broker under the driver");

	/* Both under siege at once, measured in alternate rounds. */
	bench_siege(&base, nidle, nhellos);
	bench_siege(&brk, nidle, nhellos);
	for (i = 0; i < BENCH_ROUNDS; i++) {
		bench_round(&base, nhellos / BENCH_ROUNDS);
		bench_round(&brk, nhellos / BENCH_ROUNDS);
	}
	bench_finish(&base, nidle);
	bench_finish(&brk, nidle);

	fclose(in);

	printf("%d hellos each, one at a time, in %d alternating rounds, "
	    "while %d hostile connections are open on each\n",
	    base.bs_n, BENCH_ROUNDS, nidle);
	bench_print(base.bs_name, &base.bs_result);
	bench_print(brk.bs_name, &brk.bs_result);
	printf("ratio: hellos/s %.2f (budget >= 0.5), p99 %.2f "
	    "(budget: p99 <= 5 ms), memory budget <= 4 KiB/idle\n",
	    brk.bs_result.br_rate / base.bs_result.br_rate,
	    brk.bs_result.br_p99 / base.bs_result.br_p99);
	return (0);
}
