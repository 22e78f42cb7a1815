/*
 * castra-agent's side of the bootstrap (capability bootstrap-v1): the
 * host publishes a request to vm:<name>; the tar that castra packed
 * waits in fw_cfg opt/castra/bootstrap.  The agent unpacks it into a
 * fresh directory, runs run.sh and then the verify command, and
 * publishes each step's result to the request's reply topic.
 *
 * The request is taken from the host alone (the broker names the
 * sender), and only with the sha256 of the tar that fw_cfg holds: that
 * tar is the one of this boot, and a request for another is refused.
 * run.sh runs in its own process group, killed whole at its deadline;
 * the agent keeps polling its bus session meanwhile.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sha2.h>

#include "agent.h"

#define BOOT_FWCFG	"/sys/firmware/qemu_fw_cfg/by_name/opt/castra/" \
			"bootstrap/raw"
#define BOOT_DIR	"/tmp/castra-bootstrap-"
#define BOOT_TAR_MAX	(64 * 1024 * 1024)

enum boot_step {
	BOOT_IDLE,
	BOOT_APPLY,
	BOOT_VERIFY
};

void
agentboot_init(struct agentboot *ab, agentboot_publish_fn *fn, void *arg)
{
	memset(ab, 0, sizeof(*ab));
	ab->ab_out = -1;
	ab->ab_publish = fn;
	ab->ab_arg = arg;
}

/* Keep the last bytes of the output for the result. */
static void
boot_tail(struct agentboot *ab, const char *buf, size_t len)
{
	size_t	 keep;

	if (len >= sizeof(ab->ab_tail)) {
		memcpy(ab->ab_tail, buf + len - sizeof(ab->ab_tail),
		    sizeof(ab->ab_tail));
		ab->ab_taillen = sizeof(ab->ab_tail);
		return;
	}
	if (ab->ab_taillen + len > sizeof(ab->ab_tail)) {
		keep = sizeof(ab->ab_tail) - len;
		memmove(ab->ab_tail, ab->ab_tail + ab->ab_taillen - keep,
		    keep);
		ab->ab_taillen = keep;
	}
	memcpy(ab->ab_tail + ab->ab_taillen, buf, len);
	ab->ab_taillen += len;
}

/* Publish one step's result to the reply topic. */
static void
boot_result(struct agentboot *ab, const char *step, const char *status,
    const char *detail)
{
	static char	 json[AGENT_FRAME_MAX - 64];
	char		 tail[sizeof(ab->ab_tail) * 6 + 1];
	char		 det[1024];
	int		 n;

	if (json_escape(tail, sizeof(tail), ab->ab_tail, ab->ab_taillen) ==
	    -1 || json_escape(det, sizeof(det), detail, strlen(detail)) == -1)
		return;
	n = snprintf(json, sizeof(json), "{\"payload\":{\"detail\":\"%s\","
	    "\"duration_ms\":%lld,\"output_tail\":\"%s\",\"run_id\":\"%s\","
	    "\"status\":\"%s\",\"step\":\"%s\"},\"topic\":\"%s\","
	    "\"type\":\"publish\"}", det,
	    (long long)(agent_now() - ab->ab_stepstart), tail,
	    ab->ab_req.br_runid, status, step, ab->ab_req.br_reply);
	if (n < 0 || (size_t)n >= sizeof(json))
		return;
	ab->ab_publish(ab->ab_arg, json);
}

/* Read the tar whole from fw_cfg and check it is the requested one. */
static unsigned char *
boot_read_tar(const struct agentboot *ab, size_t *lenp, char *why,
    size_t whylen)
{
	unsigned char	*buf;
	char		 hex[SHA256_DIGEST_STRING_LENGTH];
	size_t		 len = ab->ab_req.br_size, off;
	int		 fd;

	if (len == 0 || len > BOOT_TAR_MAX) {
		snprintf(why, whylen, "a tar of %zu bytes", len);
		return (NULL);
	}
	if ((fd = open(BOOT_FWCFG, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "%s: %s", BOOT_FWCFG, strerror(errno));
		return (NULL);
	}
	if ((buf = malloc(len + 1)) == NULL) {
		close(fd);
		snprintf(why, whylen, "out of memory");
		return (NULL);
	}
	/* One byte more than asked shows a tar that is longer. */
	off = agent_readn(fd, buf, len + 1);
	close(fd);
	SHA256Data(buf, off, hex);
	if (off != len || strcmp(hex, ab->ab_req.br_sha256) != 0) {
		snprintf(why, whylen, "fw_cfg holds the bootstrap of this "
		    "VM's boot, not the one asked for; castra down and up to "
		    "send a changed bootstrap");
		free(buf);
		return (NULL);
	}
	*lenp = len;
	return (buf);
}

/* Create a directory and the file's parents, mode as the tar says. */
static int
boot_extract(const char *dir, const unsigned char *tar, size_t len,
    char *why, size_t whylen)
{
	struct agent_tarent	 te;
	char			 path[1024];
	size_t			 off = 0;
	int			 fd, rv;

	while ((rv = agent_tar_next(tar, len, &off, &te)) == 1) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    te.te_name) >= sizeof(path)) {
			snprintf(why, whylen, "%s: name too long", te.te_name);
			return (-1);
		}
		if (te.te_dir) {
			if (mkdir(path, 0700) == -1 && errno != EEXIST)
				goto fail;
			if (chmod(path, te.te_mode) == -1)
				goto fail;
			continue;
		}
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) == -1)
			goto fail;
		if (write(fd, te.te_data, te.te_size) != (ssize_t)te.te_size ||
		    fchmod(fd, te.te_mode) == -1) {
			close(fd);
			goto fail;
		}
		close(fd);
	}
	if (rv == -1) {
		snprintf(why, whylen, "the tar is malformed");
		return (-1);
	}
	return (0);
 fail:
	if ((size_t)snprintf(why, whylen, "%s: %s", path, strerror(errno)) >=
	    whylen)
		why[whylen - 1] = '\0';
	return (-1);
}

/* Start run.sh or the verify command, output to a pipe. */
static int
boot_spawn(struct agentboot *ab, enum boot_step step)
{
	const struct agent_bsreq *rq = &ab->ab_req;
	char		*envp[AGENT_ENV_MAX + 8], vm[AGENT_NAME_MAX + 16];
	char		 runid[80], payload[160];
	char		*argv[4];
	struct stat	 st;
	int		 p[2], i, n = 0, devnull;
	pid_t		 pid;

	envp[n++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
	    "/sbin:/bin";
	envp[n++] = "HOME=/root";
	snprintf(vm, sizeof(vm), "CASTRA_VM=%s", ab->ab_vm);
	snprintf(runid, sizeof(runid), "CASTRA_RUN_ID=%s", rq->br_runid);
	snprintf(payload, sizeof(payload), "CASTRA_PAYLOAD_DIR=%s/payload",
	    ab->ab_dir);
	envp[n++] = vm;
	envp[n++] = runid;
	envp[n++] = payload;
	for (i = 0; i < rq->br_nenv; i++)
		envp[n++] = (char *)rq->br_env[i];
	envp[n] = NULL;
	if (step == BOOT_APPLY) {
		/* Without an x bit, sh runs it as run.sh would have. */
		if (stat("run.sh", &st) == 0 && (st.st_mode & S_IXUSR)) {
			argv[0] = "./run.sh";
			argv[1] = NULL;
		} else {
			argv[0] = "/bin/sh";
			argv[1] = "./run.sh";
			argv[2] = NULL;
		}
	} else {
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = (char *)rq->br_verify;
		argv[3] = NULL;
	}
	if (pipe2(p, O_CLOEXEC) == -1)
		return (-1);
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return (-1);
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (chdir(ab->ab_dir) == -1 ||
		    (devnull = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(devnull, 0) == -1 || dup2(p[1], 1) == -1 ||
		    dup2(p[1], 2) == -1)
			_exit(127);
		execve(argv[0], argv, envp);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	ab->ab_pid = pid;
	ab->ab_out = p[0];
	ab->ab_step = step;
	ab->ab_killed = 0;
	ab->ab_taillen = 0;
	ab->ab_stepstart = agent_now();
	ab->ab_deadline = ab->ab_stepstart + (int64_t)rq->br_timeout_ms;
	return (0);
}

static void
boot_end(struct agentboot *ab)
{
	if (ab->ab_out != -1)
		close(ab->ab_out);
	ab->ab_out = -1;
	ab->ab_pid = 0;
	ab->ab_step = BOOT_IDLE;
}

/*
 * A request from the bus.  Anything that is not the host asking for a
 * bootstrap is none of this code's business; a second request while
 * one runs is refused on its reply topic.
 */
void
agentboot_request(struct agentboot *ab, const char *json, size_t len,
    const char *vm)
{
	struct agent_bsreq	 rq;
	unsigned char		*tar;
	size_t			 tarlen;
	char			 why[512];

	if (agent_bsreq_parse(json, len, &rq) == -1)
		return;
	if (ab->ab_step != BOOT_IDLE) {
		struct agentboot	 other = *ab;

		other.ab_req = rq;
		other.ab_taillen = 0;
		other.ab_stepstart = agent_now();
		boot_result(&other, "transfer", "failed", "another bootstrap "
		    "runs in this guest");
		return;
	}
	ab->ab_req = rq;
	snprintf(ab->ab_vm, sizeof(ab->ab_vm), "%s", vm);
	ab->ab_taillen = 0;
	ab->ab_stepstart = agent_now();
	snprintf(ab->ab_dir, sizeof(ab->ab_dir), "%s%s", BOOT_DIR,
	    rq.br_runid);
	if ((tar = boot_read_tar(ab, &tarlen, why, sizeof(why))) == NULL) {
		boot_result(ab, "transfer", "failed", why);
		return;
	}
	if (mkdir(ab->ab_dir, 0700) == -1) {
		snprintf(why, sizeof(why), "%s: %s", ab->ab_dir,
		    strerror(errno));
		free(tar);
		boot_result(ab, "transfer", "failed", why);
		return;
	}
	if (boot_extract(ab->ab_dir, tar, tarlen, why, sizeof(why)) == -1) {
		free(tar);
		boot_result(ab, "transfer", "failed", why);
		return;
	}
	free(tar);
	snprintf(why, sizeof(why), "%zu bytes from fw_cfg to %s", tarlen,
	    ab->ab_dir);
	boot_result(ab, "transfer", "success", why);
	if (boot_spawn(ab, BOOT_APPLY) == -1) {
		snprintf(why, sizeof(why), "cannot run run.sh: %s",
		    strerror(errno));
		boot_result(ab, "apply", "failed", why);
	}
}

int
agentboot_fd(const struct agentboot *ab)
{
	return (ab->ab_out);
}

int
agentboot_busy(const struct agentboot *ab)
{
	return (ab->ab_step != BOOT_IDLE);
}

/* A step's process ended with status: say so, and go on or stop. */
static void
boot_ended(struct agentboot *ab, int status)
{
	const char	*step = ab->ab_step == BOOT_APPLY ? "apply" : "verify";
	char		 why[256];
	int		 code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	if (ab->ab_killed)
		snprintf(why, sizeof(why), "timed out after %llus",
		    (unsigned long long)ab->ab_req.br_timeout_ms / 1000);
	else if (code == 0)
		snprintf(why, sizeof(why), "%s succeeded",
		    ab->ab_step == BOOT_APPLY ? "run.sh" :
		    "the verify command");
	else if (code == -1)
		snprintf(why, sizeof(why), "%s killed by signal %d",
		    ab->ab_step == BOOT_APPLY ? "run.sh" :
		    "the verify command", WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "%s exited %d",
		    ab->ab_step == BOOT_APPLY ? "run.sh" :
		    "the verify command", code);
	if (ab->ab_out != -1) {
		close(ab->ab_out);
		ab->ab_out = -1;
	}
	ab->ab_pid = 0;
	boot_result(ab, step, code == 0 && !ab->ab_killed ? "success" :
	    "failed", why);
	if (code != 0 || ab->ab_killed || ab->ab_step == BOOT_VERIFY) {
		boot_end(ab);
		return;
	}
	if (ab->ab_req.br_verify[0] == '\0') {
		ab->ab_taillen = 0;
		ab->ab_stepstart = agent_now();
		boot_result(ab, "verify", "skipped", "no verify command");
		boot_end(ab);
		return;
	}
	if (boot_spawn(ab, BOOT_VERIFY) == -1) {
		snprintf(why, sizeof(why), "cannot run the verify command: "
		    "%s", strerror(errno));
		boot_result(ab, "verify", "failed", why);
		boot_end(ab);
	}
}

/* Read what the step printed, enforce its deadline, see it end. */
void
agentboot_poll(struct agentboot *ab)
{
	char	 buf[4096];
	ssize_t	 n;
	int	 status;

	if (ab->ab_step == BOOT_IDLE)
		return;
	while (ab->ab_out != -1) {
		n = read(ab->ab_out, buf, sizeof(buf));
		if (n > 0) {
			boot_tail(ab, buf, (size_t)n);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		close(ab->ab_out);
		ab->ab_out = -1;
	}
	if (!ab->ab_killed && agent_now() >= ab->ab_deadline) {
		kill(-ab->ab_pid, SIGKILL);
		ab->ab_killed = 1;
	}
	/*
	 * A daemon it started may hold the pipe open: the process is what
	 * counts, and what it left running is the bootstrap's business.
	 */
	if (waitpid(ab->ab_pid, &status, WNOHANG) == ab->ab_pid)
		boot_ended(ab, status);
}
