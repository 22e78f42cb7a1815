/*
 * castrad(8): the parent of castra-broker, castra-vmm and castra-imgd.
 *
 * castrad keeps what needs privilege or a view of every project: the
 * control socket, the listening sockets of the brokers, the state root
 * descriptors.  The children get what they need as descriptors and
 * drop the rest; castrad relays between them.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <err.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "castrad.h"
#include "images.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"

struct projects	 projects = TAILQ_HEAD_INITIALIZER(projects);
uid_t		 castra_uid;
gid_t		 castra_gid;

static struct proc procs[] = {
	{ .p_id = PROC_BROKER,	.p_name = "castra-broker",
	  .p_dispatch = project_dispatch_broker,
	  .p_started = project_broker_started },
	{ .p_id = PROC_VMM,	.p_name = "castra-vmm",
	  .p_dispatch = project_dispatch_vmm,
	  .p_started = project_vmm_started },
	{ .p_id = PROC_IMGD,	.p_name = "castra-imgd",
	  .p_dispatch = images_dispatch,
	  .p_started = images_started },
};

static char	 pidfile[PATH_MAX];
static char	 sockpath[PATH_MAX];
static int	 sockbound;	/* castrad made sockpath, not systemd */

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: castrad [-dnSv] [-H home]\n");
	exit(1);
}

int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A number of seconds from the environment, 0 when unset or bad. */
uint32_t
env_seconds(const char *name)
{
	const char	*s;

	if ((s = getenv(name)) == NULL)
		return (0);
	return (strtonum(s, 1, 86400, NULL));
}

void
hex_encode(const void *data, size_t len, char *out, size_t outlen)
{
	const unsigned char	*p = data;
	size_t			 i;

	for (i = 0; i < len && 2 * i + 2 < outlen; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* CASTRA_HOME: -H, then the environment, then the mode's default. */
static const char *
castrad_home(const char *flag)
{
	static char	 home[PATH_MAX];
	const char	*env, *user;

	if (flag != NULL)
		return (flag);
	if ((env = getenv("CASTRA_HOME")) != NULL && *env != '\0')
		return (env);
	if (getuid() == 0)
		return ("/var/lib/castra");
	if ((user = getenv("HOME")) == NULL || *user == '\0')
		errx(1, "neither CASTRA_HOME nor HOME is set; use -H");
	snprintf(home, sizeof(home), "%s/.castra", user);
	return (home);
}

/* The children live beside castrad, wherever it was installed. */
static void
castrad_bindir(void)
{
	static char	 dir[PATH_MAX];
	char		 self[PATH_MAX];
	ssize_t		 n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		err(1, "readlink /proc/self/exe");
	self[n] = '\0';
	strlcpy(dir, dirname(self), sizeof(dir));
	proc_env.pe_bindir = dir;
}

/* Check what castrad needs before it starts anything. */
static int
castrad_check(void)
{
	char	 path[PATH_MAX];
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", proc_env.pe_bindir,
		    procs[i].p_name);
		if (access(path, X_OK) == -1) {
			warn("%s", path);
			bad = 1;
		}
	}
	if (getuid() == 0 && getpwnam(SANDBOX_USER) == NULL) {
		warnx("user %s does not exist; run `make deps` or "
		    "useradd --system %s", SANDBOX_USER, SANDBOX_USER);
		bad = 1;
	}
	return (bad ? -1 : 0);
}

static void
castrad_mkdir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		fatal("mkdir %s", path);
	if (getuid() == 0 && chown(path, uid, gid) == -1)
		fatal("chown %s", path);
	if (chmod(path, mode) == -1)
		fatal("chmod %s", path);
}

/*
 * The directories under CASTRA_HOME: the home itself, the empty root
 * the broker is locked in, the image cache imgd writes, and castrad's
 * own records of the projects to adopt after a restart.
 */
static void
castrad_dirs(const char *home)
{
	char	 path[PATH_MAX];

	castrad_mkdir(home, 0755, 0, 0);
	snprintf(path, sizeof(path), "%s/empty", home);
	castrad_mkdir(path, 0555, 0, 0);
	snprintf(path, sizeof(path), "%s/images", home);
	castrad_mkdir(path, 0755, castra_uid, castra_gid);
	snprintf(path, sizeof(path), "%s/projects", home);
	castrad_mkdir(path, 0755, 0, 0);
	snprintf(path, sizeof(path), "%s/adopt", home);
	castrad_mkdir(path, 0700, 0, 0);
}

/* One castrad per CASTRA_HOME: the pid file is locked while it runs. */
static void
castrad_pidfile(const char *home)
{
	char	 buf[32];
	int	 fd;

	snprintf(pidfile, sizeof(pidfile), "%s/%s", home, CASTRAD_PIDFILE);
	if ((fd = open(pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		fatal("%s", pidfile);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("another castrad runs for %s", home);
		fatal("flock %s", pidfile);
	}
	snprintf(buf, sizeof(buf), "%d\n", getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, strlen(buf)) == -1)
		fatal("%s", pidfile);
	/* The descriptor stays open: the lock lasts as long as we do. */
}

static void
castrad_sighdlr(int sig, short event, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("exiting on signal %d", sig);
		sd_stopping();
		proc_shutdown();
		if (sockbound)
			unlink(sockpath);
		unlink(pidfile);
		exit(0);
	case SIGCHLD:
		proc_reap();
		break;
	case SIGHUP:
		/* No configuration of its own to reload. */
		break;
	}
}

static void
castrad_ids(void)
{
	struct passwd	*pw;

	castra_uid = getuid();
	castra_gid = getgid();
	if (getuid() != 0)
		return;
	if ((pw = getpwnam(SANDBOX_USER)) == NULL)
		fatalx("user %s does not exist; run `make deps` or "
		    "useradd --system %s", SANDBOX_USER, SANDBOX_USER);
	castra_uid = pw->pw_uid;
	castra_gid = pw->pw_gid;
}

int
main(int argc, char *argv[])
{
	struct event	 ev_sigterm, ev_sigint, ev_sigchld, ev_sighup;
	const char	*home = NULL;
	size_t		 i;
	int		 ch, check = 0, ctlfd;

	while ((ch = getopt(argc, argv, "dH:nSv")) != -1) {
		switch (ch) {
		case 'd':
			proc_env.pe_debug = 1;
			break;
		case 'H':
			home = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'S':
			proc_env.pe_seccomp_log = 1;
			break;
		case 'v':
			proc_env.pe_verbose++;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();

	proc_env.pe_home = castrad_home(home);
	castrad_bindir();
	if (check) {
		if (castrad_check() == -1)
			exit(1);
		fprintf(stderr, "configuration OK\n");
		exit(0);
	}
	if (castrad_check() == -1)
		exit(1);

	log_init(proc_env.pe_debug, LOG_DAEMON);
	log_setverbose(proc_env.pe_verbose);
	log_procinit("castrad");
	sd_init();
	if (!proc_env.pe_debug && daemon(1, 0) == -1)
		fatal("daemon");

	castrad_ids();
	umask(022);
	castrad_dirs(proc_env.pe_home);
	castrad_pidfile(proc_env.pe_home);

	event_init();
	signal_set(&ev_sigterm, SIGTERM, castrad_sighdlr, NULL);
	signal_set(&ev_sigint, SIGINT, castrad_sighdlr, NULL);
	signal_set(&ev_sigchld, SIGCHLD, castrad_sighdlr, NULL);
	signal_set(&ev_sighup, SIGHUP, castrad_sighdlr, NULL);
	signal_add(&ev_sigterm, NULL);
	signal_add(&ev_sigint, NULL);
	signal_add(&ev_sigchld, NULL);
	signal_add(&ev_sighup, NULL);
	signal(SIGPIPE, SIG_IGN);

	proc_init(procs, sizeof(procs) / sizeof(procs[0]));
	images_init();
	for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		proc_start(&procs[i]);

	snprintf(sockpath, sizeof(sockpath), "%s/%s", proc_env.pe_home,
	    CASTRAD_SOCKET);
	ctlfd = sd_take(SD_CONTROL_NAME);
	sockbound = ctlfd == -1;
	if (control_init(sockpath, ctlfd) == -1)
		fatalx("cannot listen on %s", sockpath);
	project_adopt_all(proc_env.pe_home);
	sd_drop_rest();

	log_info("startup, home %s%s", proc_env.pe_home, sockbound ? "" :
	    ", control socket from systemd");
	sd_ready();
	event_dispatch();
	fatalx("event loop ended");
}
