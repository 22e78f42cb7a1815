/*
 * A stand-in for castrad in front of the real castra-vmm: it lays out a
 * CASTRA_HOME and a state root under a test's directory, fills the image
 * cache with the built default image, execs castra-vmm with a socketpair
 * on its descriptor 3, and plays the broker's part of a handshake on
 * 127.0.0.1 so that a guest's hello reaches castra-vmm as it would.
 *
 * usage: driver [-S] -b bindir -d dir -i imagedir [-p project] command ...
 *
 * -S starts castra-vmm with -S: forbidden system calls are named.
 *
 * Commands run in order; every message from castra-vmm is printed as
 * one line as it arrives.  Exit status 0 unless a command timed out or
 * castra-vmm went away.
 *
 *	start NAME [mem=N] [cpus=N] [fwd=tcp:HOST:GUEST] [token=HEX]
 *	    [cmdline=STRING] [noinitrd] [nokernel] [disk=PATH] [nowait]
 *	stop NAME GRACEFUL SIGTERM SIGKILL
 *	hello NAME SECONDS		wait for the guest's hello
 *	adopt NAME
 *	wait-exit NAME SECONDS
 *	wait-serial NAME STRING SECONDS
 *	kill NAME SIGNAL
 *	restart				a new castra-vmm
 *	sh COMMAND
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sha2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "castra.h"
#include "imsg.h"
#include "proto.h"

#define DRV_MAX_VMS	8
#define DRV_MAX_CONNS	16

struct drv_vm {
	char	 dv_name[VM_NAME_MAX];
	char	 dv_token[TOKEN_HEX_LEN + 1];
	pid_t	 dv_pid;
	int	 dv_started, dv_failed, dv_stopped, dv_exited, dv_hello;
};

struct drv_conn {
	int	 dc_fd;
	char	 dc_buf[512];
	size_t	 dc_len;
	int	 dc_done;
};

static struct drv_vm	 vms[DRV_MAX_VMS];
static struct drv_conn	 conns[DRV_MAX_CONNS];
static struct imsgbuf	 ibuf;
static pid_t		 vmm_pid = -1;
static int		 listen_fd = -1;
static uint16_t		 broker_port;
static int		 seccomp_report;
static const char	*bindir, *dir, *imagedir, *project = "regress";
static char		 home[1024], sr[1100];
static char		 disk_hex[65], kernel_hex[65], initrd_hex[65];
static char		 cmdline[CTL_CMDLINE_MAX];

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static struct drv_vm *
vm_get(const char *name)
{
	int	 i;

	for (i = 0; i < DRV_MAX_VMS; i++)
		if (strcmp(vms[i].dv_name, name) == 0)
			return (&vms[i]);
	for (i = 0; i < DRV_MAX_VMS; i++)
		if (vms[i].dv_name[0] == '\0') {
			strlcpy(vms[i].dv_name, name, sizeof(vms[i].dv_name));
			return (&vms[i]);
		}
	errx(1, "too many VMs");
}

/* Copy a file into the cache under its sha256; return the hex. */
static void
cache_put(const char *name, char *hex)
{
	char	 src[1024], dst[1200], cmd[4096];

	snprintf(src, sizeof(src), "%s/%s", imagedir, name);
	if (SHA256File(src, hex) == NULL)
		err(1, "%s", src);
	snprintf(dst, sizeof(dst), "%s/images/sha256/%s", home, hex);
	if (access(dst, R_OK) == 0)
		return;
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 444 '%s'", src, dst,
	    dst);
	if (system(cmd) != 0)
		errx(1, "cannot copy %s", src);
}

static void
read_cmdline(void)
{
	char	 path[1024], line[1024], *p, *q;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/default-image.conf", imagedir);
	strlcpy(cmdline, "console=ttyS0", sizeof(cmdline));
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if ((p = strstr(line, "cmdline \"")) != NULL &&
		    (q = strrchr(p + 9, '"')) != NULL) {
			*q = '\0';
			strlcpy(cmdline, p + 9, sizeof(cmdline));
		}
	fclose(fp);
}

static void
mkdirs(void)
{
	const char	*subs[] = { "vms", "overlays", "run", "logs" };
	struct passwd	*pw;
	char		 path[2400];
	size_t		 i;

	/*
	 * The state root where castrad puts it, below the home: run as
	 * a user, castra-vmm's Landlock rules allow nothing else.  dir/sr
	 * names it for the tests.
	 */
	snprintf(home, sizeof(home), "%s/home", dir);
	snprintf(sr, sizeof(sr), "%s/projects/%s", home, project);
	snprintf(path, sizeof(path), "mkdir -p '%s/images/sha256' '%s'",
	    home, sr);
	if (system(path) != 0)
		errx(1, "mkdir %s", home);
	snprintf(path, sizeof(path), "%s/sr", dir);
	if (symlink(sr, path) == -1 && errno != EEXIST)
		err(1, "symlink %s", path);
	/* As castrad does when root: the sandboxed vmm must write here. */
	pw = geteuid() == 0 ? getpwnam("_castra") : NULL;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", sr, subs[i]);
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			err(1, "%s", path);
		if (pw != NULL && chown(path, pw->pw_uid, pw->pw_gid) == -1)
			err(1, "chown %s", path);
	}
	if (pw != NULL && chown(home, pw->pw_uid, pw->pw_gid) == -1)
		err(1, "chown %s", home);
	cache_put("rootfs.qcow2", disk_hex);
	cache_put("vmlinuz", kernel_hex);
	cache_put("initrd.img", initrd_hex);
	read_cmdline();
}

static void
vmm_spawn(void)
{
	char	 path[1024];
	int	 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		err(1, "socketpair");
	snprintf(path, sizeof(path), "%s/castra-vmm", bindir);
	switch (vmm_pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		if (dup2(sp[1], PROC_PARENT_FD) == -1)
			_exit(1);
		closefrom(PROC_PARENT_FD + 1);
		if (seccomp_report)
			execl(path, "castra-vmm", "-d", "-v", "-S", "-H", home,
			    (char *)NULL);
		execl(path, "castra-vmm", "-d", "-v", "-H", home, (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	if (imsgbuf_init(&ibuf, sp[0]) == -1)
		err(1, "imsgbuf_init");
	imsgbuf_allow_fdpass(&ibuf);
}

static void
vmm_stop_proc(void)
{
	int	 status;

	imsgbuf_clear(&ibuf);
	close(ibuf.fd);
	if (waitpid(vmm_pid, &status, 0) == -1)
		err(1, "waitpid");
	printf("vmm-exited status=%d\n", WIFEXITED(status) ?
	    WEXITSTATUS(status) : 128 + WTERMSIG(status));
	vmm_pid = -1;
}

static void
broker_listen(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 one = 1;

	if ((listen_fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listen_fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(listen_fd, 16) == -1 ||
	    getsockname(listen_fd, (struct sockaddr *)&sin, &len) == -1)
		err(1, "listen");
	broker_port = ntohs(sin.sin_port);
}

static void
send_handshake(const char *name)
{
	struct broker_vm	 bv;

	memset(&bv, 0, sizeof(bv));
	strlcpy(bv.bv_project, project, sizeof(bv.bv_project));
	strlcpy(bv.bv_name, name, sizeof(bv.bv_name));
	bv.bv_timestamp = now_ms();
	if (imsg_compose(&ibuf, IMSG_VMM_HANDSHAKE_EVENT, 0, 0, -1, &bv,
	    sizeof(bv)) == -1 || imsgbuf_flush(&ibuf) == -1)
		err(1, "handshake event");
}

/* A hello line: "hello vm:<name> capabilities=... token=<hex>". */
static void
broker_line(struct drv_conn *dc)
{
	struct drv_vm	*dv;
	char		 name[VM_NAME_MAX], *p, *t;
	size_t		 n;
	int		 tokok;

	dc->dc_done = 1;
	if (strncmp(dc->dc_buf, "hello vm:", 9) != 0) {
		printf("broker-garbage %s\n", dc->dc_buf);
		return;
	}
	p = dc->dc_buf + 9;
	n = strcspn(p, " ");
	if (n >= sizeof(name))
		return;
	memcpy(name, p, n);
	name[n] = '\0';
	dv = vm_get(name);
	t = strstr(p, " token=");
	tokok = t != NULL && dv->dv_token[0] != '\0' &&
	    strncmp(t + 7, dv->dv_token, TOKEN_HEX_LEN) == 0;
	(void)write(dc->dc_fd, "ok session=1\n", 13);
	if (!dv->dv_hello) {
		printf("hello %s token=%s at=%lld\n", name,
		    tokok ? "ok" : "bad", (long long)now_ms());
		send_handshake(name);
	}
	dv->dv_hello = 1;
}

static void
broker_accept(void)
{
	int	 fd, i;

	if ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK)) == -1)
		return;
	for (i = 0; i < DRV_MAX_CONNS; i++)
		if (conns[i].dc_fd <= 0) {
			memset(&conns[i], 0, sizeof(conns[i]));
			conns[i].dc_fd = fd;
			(void)write(fd, "castra-broker 0.1 ready\n", 24);
			return;
		}
	close(fd);
}

static void
broker_read(struct drv_conn *dc)
{
	char	*nl;
	ssize_t	 n;
	char	 junk[4096];

	if (dc->dc_done) {
		/* Frames after the handshake are read and dropped. */
		if (read(dc->dc_fd, junk, sizeof(junk)) <= 0) {
			close(dc->dc_fd);
			dc->dc_fd = 0;
		}
		return;
	}
	n = read(dc->dc_fd, dc->dc_buf + dc->dc_len,
	    sizeof(dc->dc_buf) - dc->dc_len - 1);
	if (n <= 0) {
		close(dc->dc_fd);
		dc->dc_fd = 0;
		return;
	}
	dc->dc_len += n;
	dc->dc_buf[dc->dc_len] = '\0';
	if ((nl = strchr(dc->dc_buf, '\n')) != NULL) {
		*nl = '\0';
		broker_line(dc);
	}
}

static void
print_stop_event(const char *what, struct vmm_stop_event *se)
{
	static const char *const names[CASTRA_EV_MAX] = {
		[CASTRA_EV_COOPERATIVE_ATTEMPTED] = "cooperative-attempted",
		[CASTRA_EV_COOPERATIVE_SUCCEEDED] = "cooperative-succeeded",
		[CASTRA_EV_COOPERATIVE_TIMED_OUT] = "cooperative-timed-out",
		[CASTRA_EV_SHUTDOWN_ESCALATED] = "shutdown-escalated",
		[CASTRA_EV_SHUTDOWN_COMPLETE] = "shutdown-complete",
		[CASTRA_EV_OVERLAY_DISCARDED] = "overlay-discarded",
	};
	const char	*type = "unknown";

	if (se->se_type < CASTRA_EV_MAX && names[se->se_type] != NULL)
		type = names[se->se_type];
	printf("%s %s %s ms=%llu bytes=%llu text=%s\n", what, se->se_name,
	    type, (unsigned long long)se->se_ms,
	    (unsigned long long)se->se_bytes, se->se_text);
}

static void
vmm_message(struct imsg *imsg)
{
	struct vmm_vm		 vv;
	struct vmm_stop_event	 se;
	struct vmm_fail		 vf;
	struct drv_vm		*dv;

	switch (imsg_get_type(imsg)) {
	case IMSG_VMM_START_RESPONSE:
		if (proto_read_vmm_vm(imsg, &vv) == -1)
			errx(1, "bad start response");
		dv = vm_get(vv.vv_name);
		dv->dv_pid = vv.vv_pid;
		dv->dv_started = 1;
		printf("started %s pid=%d accel=%s\n", vv.vv_name, vv.vv_pid,
		    vv.vv_accel);
		break;
	case IMSG_VMM_EXIT_EVENT:
		if (proto_read_vmm_vm(imsg, &vv) == -1)
			errx(1, "bad exit event");
		vm_get(vv.vv_name)->dv_exited = 1;
		printf("exited %s pid=%d\n", vv.vv_name, vv.vv_pid);
		break;
	case IMSG_VMM_FAIL_RESPONSE:
		if (proto_read_vmm_fail(imsg, &vf) == -1)
			errx(1, "bad fail response");
		vm_get(vf.vf_name)->dv_failed = 1;
		printf("failed %s %s\n", vf.vf_name, vf.vf_message);
		break;
	case IMSG_VMM_STOP_EVENT:
	case IMSG_VMM_STOP_RESPONSE:
		if (proto_read_vmm_stop_event(imsg, &se) == -1)
			errx(1, "bad stop event");
		print_stop_event(imsg_get_type(imsg) == IMSG_VMM_STOP_EVENT ?
		    "stop-event" : "stop-response", &se);
		if (imsg_get_type(imsg) == IMSG_VMM_STOP_RESPONSE)
			vm_get(se.se_name)->dv_stopped = 1;
		break;
	default:
		errx(1, "unexpected message %u", imsg_get_type(imsg));
	}
	fflush(stdout);
}

/*
 * Serve castra-vmm and the broker listener until one of the flags is
 * set (0) or the timeout (-1); with no flags, for the whole time (0).
 */
static int
wait_any(int seconds, int *a, int *b, int *c)
{
	struct pollfd	 pfd[2 + DRV_MAX_CONNS];
	struct imsg	 imsg;
	int64_t		 end = now_ms() + seconds * 1000LL;
	int		 i, n, nfds;

	for (;;) {
		if ((a != NULL && *a) || (b != NULL && *b) ||
		    (c != NULL && *c))
			return (0);
		if (now_ms() >= end)
			return (a == NULL ? 0 : -1);
		pfd[0].fd = ibuf.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = listen_fd;
		pfd[1].events = POLLIN;
		for (i = 0; i < DRV_MAX_CONNS; i++) {
			pfd[2 + i].fd = conns[i].dc_fd > 0 ?
			    conns[i].dc_fd : -1;
			pfd[2 + i].events = POLLIN;
		}
		nfds = 2 + DRV_MAX_CONNS;
		if ((n = poll(pfd, nfds, 50)) == -1 && errno != EINTR)
			err(1, "poll");
		if (n <= 0)
			continue;
		if (pfd[1].revents & POLLIN)
			broker_accept();
		for (i = 0; i < DRV_MAX_CONNS; i++)
			if (pfd[2 + i].revents & (POLLIN | POLLHUP))
				broker_read(&conns[i]);
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			if ((n = imsgbuf_read(&ibuf)) == -1)
				err(1, "imsgbuf_read");
			if (n == 0) {
				printf("vmm-gone\n");
				return (-1);
			}
			while (imsgbuf_get(&ibuf, &imsg) > 0) {
				vmm_message(&imsg);
				imsg_free(&imsg);
			}
		}
		fflush(stdout);
	}
}

static int
wait_for(int *flag, int seconds)
{
	return (wait_any(seconds, flag, NULL, NULL));
}

static int
open_sr(void)
{
	int	 fd;

	if ((fd = open(sr, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(1, "%s", sr);
	return (fd);
}

static int
cmd_start(char **av, int ac)
{
	struct vmm_start	 vs;
	struct drv_vm		*dv;
	char			 path[1200];
	int			 i, kernel = 1, initrd = 1, nowait = 0;

	memset(&vs, 0, sizeof(vs));
	strlcpy(vs.vs_project, project, sizeof(vs.vs_project));
	strlcpy(vs.vs_name, av[0], sizeof(vs.vs_name));
	strlcpy(vs.vs_disk, disk_hex, sizeof(vs.vs_disk));
	strlcpy(vs.vs_cmdline, cmdline, sizeof(vs.vs_cmdline));
	vs.vs_cpus = 1;
	vs.vs_memory_mib = 256;
	vs.vs_broker_port = broker_port;
	dv = vm_get(av[0]);
	dv->dv_started = dv->dv_failed = dv->dv_stopped = 0;
	dv->dv_exited = dv->dv_hello = 0;
	for (i = 0; i < TOKEN_HEX_LEN; i++)
		vs.vs_token[i] = "0123456789abcdef"[arc4random_uniform(16)];
	for (i = 1; i < ac; i++) {
		if (strncmp(av[i], "mem=", 4) == 0)
			vs.vs_memory_mib = atoi(av[i] + 4);
		else if (strncmp(av[i], "cpus=", 5) == 0)
			vs.vs_cpus = atoi(av[i] + 5);
		else if (strncmp(av[i], "token=", 6) == 0)
			strlcpy(vs.vs_token, av[i] + 6, sizeof(vs.vs_token));
		else if (strncmp(av[i], "cmdline=", 8) == 0)
			strlcpy(vs.vs_cmdline, av[i] + 8,
			    sizeof(vs.vs_cmdline));
		else if (strncmp(av[i], "disk=", 5) == 0) {
			strlcpy(path, av[i] + 5, sizeof(path));
			if (SHA256File(path, vs.vs_disk) == NULL)
				err(1, "%s", path);
		} else if (strcmp(av[i], "noinitrd") == 0)
			initrd = 0;
		else if (strcmp(av[i], "nokernel") == 0)
			kernel = initrd = 0;
		else if (strcmp(av[i], "nowait") == 0)
			nowait = 1;
		else if (strncmp(av[i], "fwd=", 4) == 0) {
			struct ctl_forward *f =
			    &vs.vs_forwards[vs.vs_nforwards++];
			unsigned int h, g;

			if (sscanf(av[i] + 4, "tcp:%u:%u", &h, &g) != 2)
				errx(1, "fwd=tcp:HOST:GUEST");
			f->cf_proto = 0;
			f->cf_host = h;
			f->cf_guest = g;
		} else
			errx(1, "start: unknown option %s", av[i]);
	}
	if (kernel)
		strlcpy(vs.vs_kernel, kernel_hex, sizeof(vs.vs_kernel));
	else
		vs.vs_cmdline[0] = '\0';
	if (initrd)
		strlcpy(vs.vs_initrd, initrd_hex, sizeof(vs.vs_initrd));
	strlcpy(dv->dv_token, vs.vs_token, sizeof(dv->dv_token));
	printf("token %s %s\n", av[0], vs.vs_token);
	if (imsg_compose(&ibuf, IMSG_VMM_START_REQUEST, 0, 0, open_sr(), &vs,
	    sizeof(vs)) == -1 || imsgbuf_flush(&ibuf) == -1)
		err(1, "start request");
	printf("sent %s at=%lld\n", av[0], (long long)now_ms());
	if (nowait)
		return (0);
	if (wait_any(120, &dv->dv_started, &dv->dv_failed, NULL) == -1) {
		printf("start %s timed out\n", av[0]);
		return (-1);
	}
	return (0);
}

static int
cmd_stop(char **av)
{
	struct vmm_stop	 vs;
	struct drv_vm	*dv = vm_get(av[0]);

	memset(&vs, 0, sizeof(vs));
	strlcpy(vs.vs_project, project, sizeof(vs.vs_project));
	strlcpy(vs.vs_name, av[0], sizeof(vs.vs_name));
	vs.vs_wait_graceful = atoi(av[1]);
	vs.vs_wait_sigterm = atoi(av[2]);
	vs.vs_wait_sigkill = atoi(av[3]);
	dv->dv_stopped = 0;
	if (imsg_compose(&ibuf, IMSG_VMM_STOP_REQUEST, 0, 0, -1, &vs,
	    sizeof(vs)) == -1 || imsgbuf_flush(&ibuf) == -1)
		err(1, "stop request");
	return (wait_for(&dv->dv_stopped, vs.vs_wait_graceful +
	    vs.vs_wait_sigterm + vs.vs_wait_sigkill + 10));
}

static int
cmd_adopt(char **av)
{
	struct vmm_vm	 vv;
	struct drv_vm	*dv = vm_get(av[0]);

	memset(&vv, 0, sizeof(vv));
	strlcpy(vv.vv_project, project, sizeof(vv.vv_project));
	strlcpy(vv.vv_name, av[0], sizeof(vv.vv_name));
	dv->dv_started = dv->dv_exited = dv->dv_failed = 0;
	if (imsg_compose(&ibuf, IMSG_VMM_ADOPT_REQUEST, 0, 0, open_sr(), &vv,
	    sizeof(vv)) == -1 || imsgbuf_flush(&ibuf) == -1)
		err(1, "adopt request");
	return (wait_any(30, &dv->dv_started, &dv->dv_exited,
	    &dv->dv_failed));
}

static int
cmd_wait_serial(char **av)
{
	char	 path[1200], buf[65536];
	ssize_t	 n;
	int64_t	 end = now_ms() + atoi(av[2]) * 1000LL;
	int	 fd;

	snprintf(path, sizeof(path), "%s/logs/%s-serial.log", sr, av[0]);
	while (now_ms() < end) {
		if ((fd = open(path, O_RDONLY)) != -1) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				buf[n] = '\0';
				if (memmem(buf, n, av[1], strlen(av[1])) !=
				    NULL) {
					printf("serial %s has %s\n", av[0],
					    av[1]);
					return (0);
				}
			}
		}
		wait_for(NULL, 0);
		poll(NULL, 0, 100);
	}
	printf("serial %s lacks %s\n", av[0], av[1]);
	return (-1);
}

static int
need(int ac, int n, const char *cmd)
{
	if (ac < n)
		errx(1, "%s: needs %d arguments", cmd, n - 1);
	return (n);
}

static int
command(char **av, int ac)
{
	struct drv_vm	*dv;
	int		 n;

	if (strcmp(av[0], "start") == 0) {
		need(ac, 2, av[0]);
		for (n = 2; n < ac && (strchr(av[n], '=') != NULL ||
		    strcmp(av[n], "noinitrd") == 0 ||
		    strcmp(av[n], "nowait") == 0 ||
		    strcmp(av[n], "nokernel") == 0); n++)
			;
		return (cmd_start(av + 1, n - 1) == -1 ? -n : n);
	}
	if (strcmp(av[0], "stop") == 0)
		return (cmd_stop(av + 1) == -1 ? -need(ac, 5, av[0]) :
		    need(ac, 5, av[0]));
	if (strcmp(av[0], "hello") == 0) {
		n = need(ac, 3, av[0]);
		dv = vm_get(av[1]);
		if (wait_for(&dv->dv_hello, atoi(av[2])) == -1) {
			printf("no-hello %s\n", av[1]);
			return (-n);
		}
		return (n);
	}
	if (strcmp(av[0], "adopt") == 0)
		return (cmd_adopt(av + 1) == -1 ? -need(ac, 2, av[0]) :
		    need(ac, 2, av[0]));
	if (strcmp(av[0], "wait-exit") == 0) {
		n = need(ac, 3, av[0]);
		dv = vm_get(av[1]);
		return (wait_for(&dv->dv_exited, atoi(av[2])) == -1 ? -n : n);
	}
	if (strcmp(av[0], "wait-serial") == 0) {
		n = need(ac, 4, av[0]);
		return (cmd_wait_serial(av + 1) == -1 ? -n : n);
	}
	if (strcmp(av[0], "kill") == 0) {
		n = need(ac, 3, av[0]);
		dv = vm_get(av[1]);
		if (dv->dv_pid <= 0 || kill(dv->dv_pid, atoi(av[2])) == -1)
			return (-n);
		printf("killed %s pid=%d\n", av[1], dv->dv_pid);
		return (n);
	}
	if (strcmp(av[0], "restart") == 0) {
		vmm_stop_proc();
		vmm_spawn();
		return (1);
	}
	if (strcmp(av[0], "sh") == 0) {
		n = need(ac, 2, av[0]);
		fflush(stdout);
		return (system(av[1]) == 0 ? n : -n);
	}
	errx(1, "unknown command %s", av[0]);
}

int
main(int argc, char *argv[])
{
	int	 ch, n, rc = 0;

	while ((ch = getopt(argc, argv, "b:d:i:p:S")) != -1) {
		switch (ch) {
		case 'b':
			bindir = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'i':
			imagedir = optarg;
			break;
		case 'p':
			project = optarg;
			break;
		case 'S':
			seccomp_report = 1;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (bindir == NULL || dir == NULL || imagedir == NULL)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	mkdirs();
	broker_listen();
	vmm_spawn();
	while (argc > 0) {
		printf("> %s\n", argv[0]);
		if ((n = command(argv, argc)) < 0) {
			printf("command %s failed\n", argv[0]);
			rc = 1;
			break;
		}
		argc -= n;
		argv += n;
	}
	wait_for(NULL, 0);
	if (vmm_pid != -1)
		vmm_stop_proc();
	return (rc);

 usage:
	fprintf(stderr, "usage: driver [-S] -b bindir -d dir -i imagedir "
	    "[-p project] command ...\n");
	return (2);
}
