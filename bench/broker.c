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
 * The broker is started by regress/broker/driver, which plays castrad.
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
	int			 s;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
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

/* The siege and the measurement, against whatever listens on port. */
static void
bench_run(uint16_t port, pid_t server, int nidle, int nhellos,
    struct bench_result *br)
{
	double	*lat, t0;
	long	 rss0;
	int	*idle, i;

	if ((lat = calloc(nhellos, sizeof(*lat))) == NULL ||
	    (idle = calloc(nidle, sizeof(*idle))) == NULL)
		err(1, NULL);
	/* Warm up, so both servers start from their steady state. */
	for (i = 0; i < 50; i++)
		bench_hello(port);
	rss0 = bench_rss_kib(server);
	for (i = 0; i < nidle; i++) {
		idle[i] = bench_connect(port);
		if (write(idle[i], "hel", 3) == -1)
			err(1, "write");
	}
	/* Every idle one has been accepted once a hello behind it is done. */
	bench_hello(port);
	br->br_kib_idle = (double)(bench_rss_kib(server) - rss0) / nidle;

	t0 = bench_now();
	for (i = 0; i < nhellos; i++)
		lat[i] = bench_hello(port);
	br->br_rate = nhellos / (bench_now() - t0);
	qsort(lat, nhellos, sizeof(*lat), bench_cmp);
	br->br_p50 = lat[nhellos / 2];
	br->br_p99 = lat[nhellos * 99 / 100];
	for (i = 0; i < nidle; i++)
		close(idle[i]);
	free(idle);
	free(lat);
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
					w = write(fd, BENCH_GREETING,
					    strlen(BENCH_GREETING));
					(void)w;
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
			w = write(fd, BENCH_OK, strlen(BENCH_OK));
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
		execl(driver, "driver", "-b", broker, "-d", dir, "-H", "3600",
		    (char *)NULL);
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
	struct bench_result	 rb, rbase;
	struct rlimit		 rl;
	const char		*builddir, *errstr;
	char			 dir[] = "/tmp/castra-bench-broker.XXXXXX";
	char			 cmd[1100];
	uint16_t		 port;
	pid_t			 driver, base, bpid;
	FILE			*in;
	int			 nidle = 5000, nhellos = 2000, status;

	if (argc > 1 && (nidle = strtonum(argv[1], 0, 15000, &errstr),
	    errstr != NULL))
		errx(1, "idle %s: %s", argv[1], errstr);
	if (argc > 2 && (nhellos = strtonum(argv[2], 100, 1000000, &errstr),
	    errstr != NULL))
		errx(1, "hellos %s: %s", argv[2], errstr);
	if ((builddir = getenv("CASTRA_BUILDDIR")) == NULL)
		builddir = "build";
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)nidle + 100)
			errx(1, "%d idle connections need more descriptors "
			    "than %ld", nidle, (long)rl.rlim_cur);
	}
	signal(SIGPIPE, SIG_IGN);

	base = baseline_start(&port);
	bench_run(port, base, nidle, nhellos, &rbase);
	kill(base, SIGKILL);
	waitpid(base, NULL, 0);

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	chmod(dir, 0755);
	driver = broker_start(builddir, dir, &port, &in);
	if ((bpid = broker_pid(driver)) == -1)
		errx(1, "no castra-broker under the driver");
	bench_run(port, bpid, nidle, nhellos, &rb);
	fclose(in);
	waitpid(driver, &status, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		warnx("%s: not removed", dir);

	printf("%d hellos, one at a time, while %d hostile connections "
	    "are open\n", nhellos, nidle);
	bench_print("baseline", &rbase);
	bench_print("broker", &rb);
	printf("ratio: hellos/s %.2f (budget >= 0.5), p99 %.2f "
	    "(budget: p99 <= 5 ms), memory budget <= 4 KiB/idle\n",
	    rb.br_rate / rbase.br_rate, rb.br_p99 / rbase.br_p99);
	return (0);
}
