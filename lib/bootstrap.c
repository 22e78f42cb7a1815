/*
 * The bootstrap pipeline of castra up: after castrad has started the
 * VMs, provision each one that has a bootstrap directory with a run.sh,
 * in five steps reported live: wait-handshake, connect, transfer,
 * apply, verify.
 *
 * Every VM runs in parallel in one poll loop (no threads): a VM waits
 * for the bootstrap of every VM it depends on, then for the hello of
 * its own boot (a handshake older than its launch is a previous boot's
 * and proves nothing), then talks to its guest over one of two
 * transports:
 *
 * agent	a host session on the project's broker publishes the
 *		request to vm:<name> and hears each step's result on
 *		bootstrap:<run id>; the directory reaches the guest as a
 *		tar through fw_cfg opt/castra/bootstrap, set up by
 *		castra-vmm.  Only an agent whose hello offers the
 *		capability bootstrap-v1 is asked.  The request:
 *		{"bootstrap":"run","run_id":..,"reply":"bootstrap:<id>",
 *		"env":{NAME:value,..},"timeout_ms":..,"verify":..,
 *		"sha256":<of the tar>,"size":<its bytes>}; the agent
 *		refuses a tar of another sha256 (fw_cfg holds the one of
 *		the VM's boot).  Its answers, one per step in order
 *		(transfer, apply, verify), on the reply topic:
 *		{"step":..,"status":"success"|"failed"|"skipped",
 *		"duration_ms":..,"output_tail":"last lines","detail":..}.
 *		A step's deadline is its timeout plus 10 seconds.
 * ssh		ssh(1) to 127.0.0.1 at the VM's forwarded port, with the
 *		host key pinned per boot in run/<vm>.known_hosts; the tar
 *		goes down ssh's standard input into `tar -x`.
 *
 * Each run leaves a JSON log in logs/bootstrap/<vm>-<run id>.json,
 * written atomically; a failure fails castra up (exit 70) and leaves
 * the VM running for inspection.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <sha2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "castra.h"
#include "config.h"
#include "proto.h"
#include "state.h"

#define BS_HANDSHAKE_MS		120000	/* for this boot's hello */
#define BS_CONNECT_MS		30000	/* for sshd or the agent */
#define BS_TRANSFER_MS		60000
#define BS_GRACE_MS		10000	/* past the guest's own deadline */
#define BS_RETRY_MS		500
#define BS_POLL_MS		100
#define BS_REMOTE_DIR		"/tmp/castra-bootstrap-"
#define BS_CAPABILITY		"bootstrap-v1"	/* an agent that can */
/*
 * The guest reads fw_cfg at about 130 KB/s under TCG (512 KiB took 4 s)
 * and its agent is busy meanwhile; 4 MiB outlasted its bus session.
 */
#define BS_AGENT_TAR_MAX	(2 * 1024 * 1024)

enum bs_step {
	BS_WAIT,
	BS_CONNECT,
	BS_TRANSFER,
	BS_APPLY,
	BS_VERIFY,
	BS_NSTEPS
};

static const char *const bs_stepnames[BS_NSTEPS] = {
	"wait-handshake", "connect", "transfer", "apply", "verify"
};

static const char *const bs_statusnames[] = {
	"success", "skipped", "failed"
};

enum bs_state {
	BS_IDLE,		/* not started: its turn has not come */
	BS_RUNNING,
	BS_DONE,
	BS_FAILED,
	BS_NOTRUN		/* the plan says skip */
};

struct bs_job {
	char			 j_name[CONFIG_NAME_MAX + 1];
	const struct instance	*j_in;
	enum bootstrap_mode	 j_mode;
	const char		*j_source;	/* of the mode */
	int			 j_run;		/* 1 run, 0 skip, -1 error */
	char			 j_reason[PATH_MAX + 128];
	char			 j_script[PATH_MAX];
	int			 j_exec;	/* run.sh has an x bit */
	struct bootstrap_tar	 j_tar;
	char			 j_sha256[SHA256_DIGEST_STRING_LENGTH];
	uint16_t		 j_port;	/* ssh */
	char			 j_known[PATH_MAX];

	enum bs_state		 j_state;
	enum bs_step		 j_step;
	char			 j_runid[48];
	char			 j_dir[96];	/* in the guest */
	int64_t			 j_start;
	int64_t			 j_stepstart;
	int64_t			 j_deadline;	/* of the step */
	int64_t			 j_next;	/* next poll or retry */
	int64_t			 j_launched;
	int			 j_capable;	/* the agent can bootstrap */
	char			 j_caps[128];	/* what it offers */
	pid_t			 j_pid;
	int			 j_out;
	int			 j_tarfd;
	int			 j_killed;
	struct bootstrap_out	 j_output;	/* of the step under way */
	int			 j_noop;
	int			 j_skipped;	/* auto, and it cannot run */
	struct castra_bus	*j_bus;
	json_t			*j_steps;
	char			 j_error[2048];
	char			 j_guesttail[BOOTSTRAP_TAIL_MAX];
};

struct bootstrap_set {
	struct castra		*bs_c;
	struct instance		*bs_insts;
	size_t			 bs_ninsts;
	struct bs_job		*bs_jobs;
	size_t			 bs_njobs;
	int			 bs_rootfd;
	castra_event_fn		*bs_fn;
	void			*bs_arg;
};

static int64_t
bs_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
bs_mode_parse(const char *s, enum bootstrap_mode *mp)
{
	if (strcmp(s, "auto") == 0)
		*mp = BOOTSTRAP_AUTO;
	else if (strcmp(s, "skip") == 0)
		*mp = BOOTSTRAP_SKIP;
	else if (strcmp(s, "always") == 0)
		*mp = BOOTSTRAP_ALWAYS;
	else
		return (-1);
	return (0);
}

static struct bs_job *
bs_find(struct bootstrap_set *bs, const char *name)
{
	size_t	 i;

	for (i = 0; i < bs->bs_njobs; i++)
		if (strcmp(bs->bs_jobs[i].j_name, name) == 0)
			return (&bs->bs_jobs[i]);
	return (NULL);
}

static void
bs_vmlist(struct bootstrap_set *bs, char *buf, size_t len)
{
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < bs->bs_njobs; i++) {
		if (i > 0)
			strlcat(buf, ", ", len);
		strlcat(buf, bs->bs_jobs[i].j_name, len);
	}
}

/* One --bootstrap vm=mode[,vm=mode...] argument. */
static int
bs_override_vms(struct bootstrap_set *bs, const char *arg,
    struct castra_error *ce)
{
	enum bootstrap_mode	 m;
	struct bs_job		*j;
	char			*copy, *p, *item, *eq, list[1024];

	if ((copy = strdup(arg)) == NULL) {
		castra_seterr(ce, 70, "out of memory");
		return (-1);
	}
	p = copy;
	while ((item = strsep(&p, ",")) != NULL) {
		if ((eq = strchr(item, '=')) == NULL) {
			castra_seterr(ce, 64, "--bootstrap %s: not vm=mode",
			    item);
			goto fail;
		}
		*eq++ = '\0';
		if (bs_mode_parse(eq, &m) == -1) {
			castra_seterr(ce, 64, "--bootstrap %s=%s: the mode "
			    "is auto, skip or always", item, eq);
			goto fail;
		}
		if ((j = bs_find(bs, item)) == NULL) {
			bs_vmlist(bs, list, sizeof(list));
			castra_seterr(ce, 64, "--bootstrap: no VM \"%s\" in "
			    "this project; its VMs are: %s", item, list);
			goto fail;
		}
		j->j_mode = m;
		j->j_source = "--bootstrap vm=mode";
	}
	free(copy);
	return (0);
 fail:
	free(copy);
	return (-1);
}

/* The host port that reaches the guest's sshd. */
static uint16_t
bs_ssh_port(const struct instance *in)
{
	int	 f;

	/* Like a forward, each instance's port moves up by its index. */
	if (in->in_vm->vm_ssh_port != 0)
		return (in->in_vm->vm_ssh_port + in->in_index > 65535 ? 0 :
		    in->in_vm->vm_ssh_port + in->in_index);
	for (f = 0; f < in->in_nforwards; f++)
		if (in->in_forwards[f].fw_proto == FORWARD_TCP &&
		    in->in_forwards[f].fw_guest == 22)
			return (in->in_forwards[f].fw_host);
	return (22);
}

/* Decide whether a VM's bootstrap runs, and pack it if it does. */
static void
bs_decide(struct bs_job *j)
{
	const struct vm	*vm = j->j_in->in_vm;
	int		 always = j->j_mode == BOOTSTRAP_ALWAYS;
	struct stat	 st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG;
	j->j_run = 0;
	if (j->j_mode == BOOTSTRAP_SKIP) {
		snprintf(j->j_reason, sizeof(j->j_reason), "never runs");
		return;
	}
	if (vm->vm_bootstrap_dir == NULL) {
		snprintf(j->j_reason, sizeof(j->j_reason), "no bootstrap "
		    "dir in the VM's declaration");
		j->j_run = always ? -1 : 0;
		return;
	}
	snprintf(j->j_script, sizeof(j->j_script), "%s/run.sh",
	    vm->vm_bootstrap_dir);
	if (stat(j->j_script, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(j->j_reason, sizeof(j->j_reason), "%s: %s",
		    j->j_script, S_ISREG(st.st_mode) ? strerror(errno) :
		    "not a regular file");
		j->j_run = always ? -1 : 0;
		return;
	}
	j->j_exec = (st.st_mode & S_IXUSR) != 0;
	if (vm->vm_ssh && j->j_port == 0) {
		snprintf(j->j_reason, sizeof(j->j_reason), "ssh port %u plus "
		    "the instance index %u is past 65535", vm->vm_ssh_port,
		    j->j_in->in_index);
		j->j_run = -1;
		return;
	}
	if (bootstrap_tar_make(&j->j_tar, vm->vm_bootstrap_dir) == -1) {
		snprintf(j->j_reason, sizeof(j->j_reason), "%s/%s: %s",
		    vm->vm_bootstrap_dir, j->j_tar.bt_failed,
		    errno == EOPNOTSUPP ? "only regular files and "
		    "directories can be sent" : strerror(errno));
		j->j_run = -1;
		return;
	}
	if (!vm->vm_ssh && j->j_tar.bt_len > BS_AGENT_TAR_MAX) {
		snprintf(j->j_reason, sizeof(j->j_reason), "%s packs to %zu "
		    "bytes; through the agent (fw_cfg) a bootstrap may take "
		    "%d: use `bootstrap ssh` or a smaller payload",
		    vm->vm_bootstrap_dir, j->j_tar.bt_len, BS_AGENT_TAR_MAX);
		j->j_run = -1;
		return;
	}
	SHA256Data(j->j_tar.bt_buf, j->j_tar.bt_len, j->j_sha256);
	snprintf(j->j_reason, sizeof(j->j_reason), "%s",
	    j->j_mode == BOOTSTRAP_ALWAYS ? "always runs, after this boot's "
	    "hello" : "run.sh is there: runs after this boot's hello");
	j->j_run = 1;
}

int
bootstrap_resolve(struct castra *c, const struct castra_up_options *uo,
    struct bootstrap_set **bsp, struct castra_error *ce)
{
	struct bootstrap_set	*bs;
	enum bootstrap_mode	 global = BOOTSTRAP_AUTO;
	struct bs_job		*j;
	size_t			 i;
	int			 k, hasglobal = 0;

	*bsp = NULL;
	if (uo->uo_bootstrap != NULL) {
		if (bs_mode_parse(uo->uo_bootstrap, &global) == -1) {
			castra_seterr(ce, 64, "--bootstrap %s: the mode is "
			    "auto, skip or always, or vm=mode",
			    uo->uo_bootstrap);
			return (-1);
		}
		hasglobal = 1;
	}
	if ((bs = calloc(1, sizeof(*bs))) == NULL)
		goto nomem;
	bs->bs_c = c;
	bs->bs_rootfd = -1;
	if (config_instances(c->c_cfg, &bs->bs_insts, &bs->bs_ninsts) == -1)
		goto nomem;
	if ((bs->bs_jobs = calloc(bs->bs_ninsts + 1,
	    sizeof(*bs->bs_jobs))) == NULL)
		goto nomem;
	bs->bs_njobs = bs->bs_ninsts;
	for (i = 0; i < bs->bs_njobs; i++) {
		j = &bs->bs_jobs[i];
		j->j_in = &bs->bs_insts[i];
		strlcpy(j->j_name, j->j_in->in_name, sizeof(j->j_name));
		j->j_mode = j->j_in->in_vm->vm_bootstrap;
		j->j_source = "castra.conf";
		if (hasglobal) {
			j->j_mode = global;
			j->j_source = "--bootstrap";
		}
		j->j_out = j->j_tarfd = -1;
		j->j_port = bs_ssh_port(j->j_in);
	}
	for (k = 0; uo->uo_bootstrap_vms != NULL &&
	    uo->uo_bootstrap_vms[k] != NULL; k++)
		if (bs_override_vms(bs, uo->uo_bootstrap_vms[k], ce) == -1)
			goto fail;
	for (i = 0; i < bs->bs_njobs; i++)
		bs_decide(&bs->bs_jobs[i]);
	*bsp = bs;
	return (0);
 nomem:
	castra_seterr(ce, 70, "out of memory");
 fail:
	bootstrap_free(bs);
	return (-1);
}

void
bootstrap_free(struct bootstrap_set *bs)
{
	struct bs_job	*j;
	size_t		 i;

	if (bs == NULL)
		return;
	for (i = 0; i < bs->bs_njobs; i++) {
		j = &bs->bs_jobs[i];
		bootstrap_tar_free(&j->j_tar);
		if (j->j_pid > 0) {
			kill(-j->j_pid, SIGKILL);
			waitpid(j->j_pid, NULL, 0);
		}
		if (j->j_out != -1)
			close(j->j_out);
		if (j->j_tarfd != -1)
			close(j->j_tarfd);
		if (j->j_bus != NULL)
			castra_bus_close(j->j_bus);
		json_decref(j->j_steps);
	}
	if (bs->bs_rootfd != -1)
		close(bs->bs_rootfd);
	free(bs->bs_jobs);
	free(bs->bs_insts);
	free(bs);
}

/*
 * The tar of each VM that bootstraps through the agent, as a sealed
 * memory file for castrad to hand castra-vmm, which gives it to QEMU as
 * fw_cfg opt/castra/bootstrap.  *fdsp gets one descriptor or -1 per
 * VM of cv, or stays NULL when no VM needs one.
 */
int
bootstrap_tarfds(struct bootstrap_set *bs, const struct ctl_vm *cv,
    uint32_t ncv, int **fdsp, struct castra_error *ce)
{
	struct bs_job	*j;
	uint32_t	 i;
	size_t		 off;
	ssize_t		 n;
	int		*fds, fd;

	*fdsp = NULL;
	if (bs == NULL)
		return (0);
	if ((fds = calloc(ncv + 1, sizeof(*fds))) == NULL) {
		castra_seterr(ce, 70, "out of memory");
		return (-1);
	}
	*fdsp = fds;
	for (i = 0; i < ncv; i++)
		fds[i] = -1;
	for (i = 0; i < ncv; i++) {
		if ((j = bs_find(bs, cv[i].cv_name)) == NULL ||
		    j->j_run != 1 || j->j_in->in_vm->vm_ssh)
			continue;
		if ((fd = memfd_create("castra-bootstrap", MFD_CLOEXEC |
		    MFD_ALLOW_SEALING)) == -1)
			goto fail;
		fds[i] = fd;
		for (off = 0; off < j->j_tar.bt_len; off += n)
			if ((n = write(fd, j->j_tar.bt_buf + off,
			    j->j_tar.bt_len - off)) == -1 && errno != EINTR)
				goto fail;
			else if (n == -1)
				n = 0;
		/* What castra-vmm copies is what was packed here. */
		if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		    F_SEAL_WRITE | F_SEAL_SEAL) == -1 ||
		    lseek(fd, 0, SEEK_SET) == -1)
			goto fail;
	}
	return (0);
 fail:
	castra_seterr(ce, 71, "%s: the bootstrap tar: %s", cv[i].cv_name,
	    strerror(errno));
	return (-1);
}

/* Does any VM run its bootstrap?  Errors in the plan count as none. */
int
bootstrap_pending(const struct bootstrap_set *bs)
{
	size_t	 i;

	for (i = 0; bs != NULL && i < bs->bs_njobs; i++)
		if (bs->bs_jobs[i].j_run == 1)
			return (1);
	return (0);
}

static void
bs_emit(struct bootstrap_set *bs, enum castra_event_type type,
    const char *vm, const char *text, const char *detail, uint64_t num,
    uint64_t ms)
{
	struct castra_event	 ev;

	if (bs->bs_fn == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.ev_type = type;
	ev.ev_vm = vm;
	ev.ev_text = text;
	ev.ev_detail = detail != NULL ? detail : "";
	ev.ev_num = num;
	ev.ev_ms = ms;
	bs->bs_fn(&ev, bs->bs_arg);
}

static void
bs_transport(const struct bs_job *j, char *buf, size_t len)
{
	const struct vm	*vm = j->j_in->in_vm;

	if (!vm->vm_ssh) {
		snprintf(buf, len, "agent (the bus and fw_cfg)");
		return;
	}
	snprintf(buf, len, "ssh %s@127.0.0.1:%u%s%s",
	    vm->vm_ssh_user != NULL ? vm->vm_ssh_user : "root", j->j_port,
	    vm->vm_ssh_key != NULL ? " key " : "",
	    vm->vm_ssh_key != NULL ? vm->vm_ssh_key : "");
}

/*
 * castra up --plan: what would run and why, from the project file and
 * the bootstrap directories alone.  Nothing is written and castrad is
 * not asked.
 */
int
bootstrap_plan(struct bootstrap_set *bs, castra_event_fn *fn, void *arg,
    struct castra_error *ce)
{
	const struct vm	*vm;
	struct bs_job	*j;
	char		 buf[8192], line[PATH_MAX + 256];
	size_t		 i;
	int		 k, errors = 0;

	bs->bs_fn = fn;
	bs->bs_arg = arg;
	for (i = 0; i < bs->bs_njobs; i++) {
		j = &bs->bs_jobs[i];
		vm = j->j_in->in_vm;
		snprintf(buf, sizeof(buf), "mode: %s (from %s)\n"
		    "reason: %s\n", config_bootstrap_name(j->j_mode),
		    j->j_source, j->j_reason);
		if (j->j_run == 1) {
			snprintf(line, sizeof(line), "script: %s\n"
			    "payload: %zu files, %llu bytes\n", j->j_script,
			    j->j_tar.bt_files,
			    (unsigned long long)j->j_tar.bt_bytes);
			strlcat(buf, line, sizeof(buf));
			strlcat(buf, "env:", sizeof(buf));
			for (k = 0; k < vm->vm_nenv; k++) {
				strlcat(buf, k ? ", " : " ", sizeof(buf));
				strlcat(buf, vm->vm_env[k].ev_name,
				    sizeof(buf));
			}
			strlcat(buf, vm->vm_nenv ? "\n" : " none\n",
			    sizeof(buf));
			snprintf(line, sizeof(line), "timeout: %us\n"
			    "verify: %s\n", vm->vm_bootstrap_timeout,
			    vm->vm_verify != NULL ? vm->vm_verify : "none");
			strlcat(buf, line, sizeof(buf));
			strlcat(buf, "transport: ", sizeof(buf));
			bs_transport(j, line, sizeof(line));
			strlcat(buf, line, sizeof(buf));
			strlcat(buf, "\n", sizeof(buf));
			for (k = 0; k < vm->vm_ndepends; k++) {
				snprintf(line, sizeof(line), "after: %s\n",
				    vm->vm_depends[k]);
				strlcat(buf, line, sizeof(buf));
			}
		}
		if (j->j_run == -1)
			errors++;
		bs_emit(bs, CASTRA_EV_BOOTSTRAP_PLANNED, j->j_name,
		    j->j_run == 1 ? "would run" : j->j_run == 0 ?
		    "would skip" : "would error", buf, j->j_run == -1, 0);
	}
	if (errors > 0) {
		castra_seterr(ce, 65, "the bootstrap of %d VM%s would fail; "
		    "fix the project file or the bootstrap directory",
		    errors, errors == 1 ? "" : "s");
		return (-1);
	}
	return (0);
}

/* Quote s for a POSIX shell as one word: '...' with ' as '\''. */
static int
bs_quote(char *buf, size_t len, const char *s)
{
	size_t	 o = 0;

	if (len < 3)
		return (-1);
	buf[o++] = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			if (o + 4 >= len)
				return (-1);
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else {
			if (o + 1 >= len)
				return (-1);
			buf[o++] = *s;
		}
	}
	if (o + 2 > len)
		return (-1);
	buf[o++] = '\'';
	buf[o] = '\0';
	return (0);
}

static int
bs_name_ok(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	    *s == '_'))
		return (0);
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return (0);
	return (1);
}

/* Append "export NAME='value'; " to a growing command. */
static int
bs_export(char **cmd, const char *name, const char *value)
{
	char	*q, *n;
	size_t	 qlen = strlen(value) * 4 + 3;
	int	 rv;

	if (!bs_name_ok(name)) {
		errno = EINVAL;
		return (-1);
	}
	if ((q = malloc(qlen)) == NULL)
		return (-1);
	if (bs_quote(q, qlen, value) == -1) {
		free(q);
		errno = EINVAL;
		return (-1);
	}
	rv = asprintf(&n, "%sexport %s=%s; ", *cmd, name, q);
	free(q);
	if (rv == -1)
		return (-1);
	free(*cmd);
	*cmd = n;
	return (0);
}

/*
 * The one command string that the guest's login shell runs for a
 * step: ssh joins its arguments with spaces, so the quoting is done
 * here, once, and nothing else is passed.
 */
static char *
bs_remote_cmd(const struct bs_job *j, enum bs_step step)
{
	const struct vm	*vm = j->j_in->in_vm;
	char		*cmd, *n, qdir[256], payload[128], *qv = NULL;
	size_t		 qlen;
	int		 k, rv;

	if (bs_quote(qdir, sizeof(qdir), j->j_dir) == -1)
		return (NULL);
	switch (step) {
	case BS_CONNECT:
		return (strdup("true"));
	case BS_TRANSFER:
		if (asprintf(&cmd, "rm -rf %s && mkdir -m 700 %s && "
		    "tar -x -f - -C %s", qdir, qdir, qdir) == -1)
			return (NULL);
		return (cmd);
	default:
		break;
	}
	if (asprintf(&cmd, "cd %s || exit 1; ", qdir) == -1)
		return (NULL);
	snprintf(payload, sizeof(payload), "%s/payload", j->j_dir);
	if (bs_export(&cmd, "CASTRA_VM", j->j_name) == -1 ||
	    bs_export(&cmd, "CASTRA_RUN_ID", j->j_runid) == -1 ||
	    bs_export(&cmd, "CASTRA_PAYLOAD_DIR", payload) == -1)
		goto fail;
	for (k = 0; k < vm->vm_nenv; k++)
		if (bs_export(&cmd, vm->vm_env[k].ev_name,
		    vm->vm_env[k].ev_value) == -1)
			goto fail;
	if (step == BS_APPLY)
		/*
		 * The guest enforces the timeout too when it can, so
		 * that nothing outlives it there; timeout(1) kills the
		 * whole process group of run.sh.
		 */
		rv = asprintf(&n, "%sif command -v timeout >/dev/null 2>&1; "
		    "then exec timeout -s KILL %u %s 2>&1 </dev/null; fi; "
		    "exec %s 2>&1 </dev/null", cmd, vm->vm_bootstrap_timeout,
		    j->j_exec ? "./run.sh" : "sh ./run.sh",
		    j->j_exec ? "./run.sh" : "sh ./run.sh");
	else {
		qlen = strlen(vm->vm_verify) * 4 + 3;
		if ((qv = malloc(qlen)) == NULL ||
		    bs_quote(qv, qlen, vm->vm_verify) == -1)
			goto fail;
		rv = asprintf(&n, "%sexec sh -c %s 2>&1 </dev/null", cmd, qv);
		free(qv);
	}
	if (rv == -1)
		goto fail;
	free(cmd);
	return (n);
 fail:
	free(cmd);
	return (NULL);
}

static int
bs_ssh_spawn(struct bootstrap_set *bs, struct bs_job *j, enum bs_step step)
{
	const struct vm	*vm = j->j_in->in_vm;
	char		*argv[40], port[8], known[PATH_MAX + 32], *cmd;
	int		 p[2], in, n = 0;
	pid_t		 pid;

	if (j->j_known[0] == '\0') {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((cmd = bs_remote_cmd(j, step)) == NULL)
		return (-1);
	snprintf(port, sizeof(port), "%u", j->j_port);
	snprintf(known, sizeof(known), "UserKnownHostsFile=%s",
	    j->j_known);
	argv[n++] = "ssh";
	argv[n++] = "-T";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "ConnectTimeout=5";
	argv[n++] = "-o";
	argv[n++] = "ServerAliveInterval=5";
	argv[n++] = "-o";
	argv[n++] = "LogLevel=ERROR";
	argv[n++] = "-o";
	argv[n++] = "GlobalKnownHostsFile=/dev/null";
	argv[n++] = "-o";
	argv[n++] = known;
	argv[n++] = "-o";
	/* Pinned on first use in this boot, enforced from then on. */
	argv[n++] = step == BS_CONNECT ? "StrictHostKeyChecking=accept-new" :
	    "StrictHostKeyChecking=yes";
	if (vm->vm_ssh_key != NULL) {
		argv[n++] = "-o";
		argv[n++] = "IdentitiesOnly=yes";
		argv[n++] = "-i";
		argv[n++] = vm->vm_ssh_key;
	}
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = "-l";
	argv[n++] = vm->vm_ssh_user != NULL ? vm->vm_ssh_user : "root";
	argv[n++] = "127.0.0.1";
	argv[n++] = cmd;
	argv[n] = NULL;

	if (pipe2(p, O_CLOEXEC) == -1) {
		free(cmd);
		return (-1);
	}
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		free(cmd);
		return (-1);
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (step == BS_TRANSFER) {
			in = j->j_tarfd;
			lseek(in, 0, SEEK_SET);
		} else
			in = open("/dev/null", O_RDONLY);
		if (in == -1 || dup2(in, 0) == -1 || dup2(p[1], 1) == -1 ||
		    dup2(p[1], 2) == -1)
			_exit(127);
		execvp("ssh", argv);
		dprintf(2, "ssh: %s\n", strerror(errno));
		_exit(127);
	}
	(void)bs;
	setpgid(pid, pid);
	free(cmd);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	j->j_pid = pid;
	j->j_out = p[0];
	j->j_killed = 0;
	return (0);
}

static void
bs_step_done(struct bootstrap_set *bs, struct bs_job *j,
    enum castra_step_status st, const char *detail)
{
	int64_t	 ms = bs_now() - j->j_stepstart;
	json_t	*o;

	o = json_pack("{s:s, s:s, s:I}", "step", bs_stepnames[j->j_step],
	    "status", bs_statusnames[st], "duration_ms", (json_int_t)ms);
	if (o != NULL && detail != NULL && detail[0] != '\0')
		json_object_set_new(o, "detail", json_string(detail));
	if (o != NULL)
		json_array_append_new(j->j_steps, o);
	bs_emit(bs, CASTRA_EV_BOOTSTRAP_STEP, j->j_name,
	    bs_stepnames[j->j_step], detail, st, ms);
}

static void
bs_log(struct bootstrap_set *bs, struct bs_job *j, const char *status)
{
	const struct vm	*vm = j->j_in->in_vm;
	json_t		*o, *env;
	char		 path[PATH_MAX], transport[PATH_MAX + 64];
	int		 k;

	if ((env = json_array()) == NULL)
		return;
	for (k = 0; k < vm->vm_nenv; k++)
		json_array_append_new(env, json_string(vm->vm_env[k].ev_name));
	bs_transport(j, transport, sizeof(transport));
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:O, s:s, s:s, s:I, "
	    "s:o, s:I}",
	    "vm", j->j_name, "run_id", j->j_runid, "status", status,
	    "mode", config_bootstrap_name(j->j_mode),
	    "started_at_ms", (json_int_t)(state_now_ms() -
	    (bs_now() - j->j_start)),
	    "duration_ms", (json_int_t)(bs_now() - j->j_start),
	    "steps", j->j_steps, "script", j->j_script,
	    "transport", transport,
	    "payload_bytes", (json_int_t)j->j_tar.bt_bytes,
	    "env_keys", env,
	    "timeout_s", (json_int_t)vm->vm_bootstrap_timeout);
	if (o == NULL)
		return;
	if (j->j_error[0] != '\0')
		json_object_set_new(o, "error", json_string(j->j_error));
	if (j->j_guesttail[0] != '\0')
		json_object_set_new(o, "output_tail",
		    json_string(j->j_guesttail));
	snprintf(path, sizeof(path), "%s/%s-%s.json", BOOTSTRAP_LOGDIR,
	    j->j_name, j->j_runid);
	if (state_write_json(bs->bs_rootfd, path, o, 0600) == -1) {
		if ((size_t)snprintf(transport, sizeof(transport), "%s: %s",
		    path, strerror(errno)) >= sizeof(transport))
			transport[sizeof(transport) - 1] = '\0';
		bs_emit(bs, CASTRA_EV_WARNING, j->j_name, transport, NULL, 0,
		    0);
	}
	json_decref(o);
}

static void
bs_fail(struct bootstrap_set *bs, struct bs_job *j, const char *why)
{
	char	 tail[BOOTSTRAP_TAIL_MAX];

	bootstrap_out_tail(&j->j_output, tail, sizeof(tail));
	if (j->j_guesttail[0] == '\0')
		strlcpy(j->j_guesttail, tail, sizeof(j->j_guesttail));
	bs_step_done(bs, j, CASTRA_STEP_FAILED, why);
	if ((size_t)snprintf(j->j_error, sizeof(j->j_error), "step %s: %s%s%s",
	    bs_stepnames[j->j_step], why, j->j_guesttail[0] ?
	    "; the last lines of its output:\n" : "", j->j_guesttail) >=
	    sizeof(j->j_error))
		j->j_error[sizeof(j->j_error) - 1] = '\0';
	j->j_state = BS_FAILED;
	bs_log(bs, j, "failed");
	bs_emit(bs, CASTRA_EV_BOOTSTRAP_FAILED, j->j_name, j->j_error, NULL,
	    0, bs_now() - j->j_start);
}

static void
bs_complete(struct bootstrap_set *bs, struct bs_job *j)
{
	const char	*status = j->j_skipped ? "skipped" : j->j_noop ?
			    "noop" : "success";

	j->j_state = BS_DONE;
	bs_log(bs, j, status);
	bs_emit(bs, CASTRA_EV_BOOTSTRAP_COMPLETED, j->j_name, status, NULL,
	    0, bs_now() - j->j_start);
}

static void
bs_next_step(struct bootstrap_set *bs, struct bs_job *j)
{
	const struct vm	*vm = j->j_in->in_vm;
	int64_t		 limit;

	j->j_step++;
	j->j_stepstart = bs_now();
	j->j_next = 0;
	bootstrap_out_reset(&j->j_output);
	if (j->j_step == BS_VERIFY && vm->vm_verify == NULL) {
		bs_step_done(bs, j, CASTRA_STEP_SKIPPED, "no verify command");
		bs_complete(bs, j);
		return;
	}
	if (j->j_step == BS_NSTEPS) {
		bs_complete(bs, j);
		return;
	}
	switch (j->j_step) {
	case BS_CONNECT:
		limit = BS_CONNECT_MS;
		break;
	case BS_TRANSFER:
		limit = BS_TRANSFER_MS;
		break;
	default:
		limit = (int64_t)vm->vm_bootstrap_timeout * 1000;
		break;
	}
	j->j_deadline = j->j_stepstart + limit;
}

/* What the agent offered in its hello; the broker checked its form. */
static void
bs_capabilities(struct bs_job *j, json_t *caps)
{
	const char	*cap;
	size_t		 i;

	j->j_capable = 0;
	j->j_caps[0] = '\0';
	for (i = 0; i < json_array_size(caps); i++) {
		if ((cap = json_string_value(json_array_get(caps, i))) ==
		    NULL)
			continue;
		if (strcmp(cap, BS_CAPABILITY) == 0)
			j->j_capable = 1;
		if (j->j_caps[0] != '\0')
			strlcat(j->j_caps, ", ", sizeof(j->j_caps));
		strlcat(j->j_caps, cap, sizeof(j->j_caps));
	}
}

/* Has this boot of the VM said hello?  1 yes, 0 not yet, -1 error. */
static int
bs_handshake(struct bootstrap_set *bs, struct bs_job *j, char *why,
    size_t len)
{
	json_t		*rec = NULL, *hs = NULL;
	const char	*state;
	char		 path[PATH_MAX];
	int64_t		 ts;
	int		 dead;

	/* Read each time: a VM that dies while we wait fails at once. */
	snprintf(path, sizeof(path), "%s/%s.json", STATE_VMS, j->j_name);
	if (state_read_json(bs->bs_rootfd, path, &rec) == -1) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return (errno == ENOENT ? 0 : -1);
	}
	j->j_launched = json_integer_value(json_object_get(rec,
	    "launched_at_ms"));
	state = json_string_value(json_object_get(rec, "state"));
	dead = state != NULL && (strcmp(state, "stopped") == 0 ||
	    strcmp(state, "error") == 0);
	if (dead)
		snprintf(why, len, "the VM is %s; see `castra logs %s`",
		    state, j->j_name);
	json_decref(rec);
	if (dead)
		return (-1);
	if (j->j_launched <= 0) {
		j->j_launched = 0;
		return (0);
	}
	snprintf(path, sizeof(path), "%s/%s.json", STATE_HANDSHAKES,
	    j->j_name);
	if (state_read_json(bs->bs_rootfd, path, &hs) == -1)
		return (0);
	ts = json_integer_value(json_object_get(hs, "timestamp_ms"));
	if (ts < j->j_launched) {
		json_decref(hs);
		return (0);
	}
	bs_capabilities(j, json_object_get(hs, "capabilities"));
	json_decref(hs);
	snprintf(why, len, "hello %lld ms after launch",
	    (long long)(ts - j->j_launched));
	return (1);
}

static void
bs_start(struct bootstrap_set *bs, struct bs_job *j)
{
	char		 what[128];
	uint32_t	 r = arc4random();
	int64_t		 now = state_now_ms();

	j->j_state = BS_RUNNING;
	j->j_start = j->j_stepstart = bs_now();
	j->j_step = BS_WAIT;
	j->j_deadline = j->j_start + BS_HANDSHAKE_MS;
	j->j_steps = json_array();
	snprintf(j->j_runid, sizeof(j->j_runid), "%lld-%08x",
	    (long long)now, r);
	snprintf(j->j_dir, sizeof(j->j_dir), "%s%s", BS_REMOTE_DIR,
	    j->j_runid);
	if ((size_t)snprintf(j->j_known, sizeof(j->j_known),
	    "%s/%s/%s.known_hosts", bs->bs_c->c_root, STATE_RUN,
	    j->j_name) >= sizeof(j->j_known))
		j->j_known[0] = '\0';	/* bs_ssh_spawn refuses it */
	snprintf(what, sizeof(what), "%s %s", j->j_in->in_vm->vm_ssh ?
	    "ssh" : "agent", config_bootstrap_name(j->j_mode));
	bs_emit(bs, CASTRA_EV_BOOTSTRAP_STARTED, j->j_name, what, NULL, 0, 0);
}

/* A ssh step's child has ended: judge it. */
static void
bs_ssh_ended(struct bootstrap_set *bs, struct bs_job *j, int status)
{
	const struct vm	*vm = j->j_in->in_vm;
	char		 why[256];
	int		 code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	int64_t		 now = bs_now();

	j->j_pid = 0;
	if (j->j_killed) {
		snprintf(why, sizeof(why), "timed out after %llds",
		    (long long)(now - j->j_stepstart + 500) / 1000);
		bs_fail(bs, j, why);
		return;
	}
	if (code == 0) {
		if (j->j_step == BS_APPLY)
			j->j_noop = j->j_output.bo_noop;
		if (j->j_step == BS_APPLY)
			bs_step_done(bs, j, CASTRA_STEP_SUCCESS, j->j_noop ?
			    "run.sh reported Castra:noop" : "run.sh succeeded");
		else if (j->j_step == BS_VERIFY)
			bs_step_done(bs, j, CASTRA_STEP_SUCCESS,
			    "verify command succeeded");
		else if (j->j_step == BS_TRANSFER) {
			snprintf(why, sizeof(why), "%zu files, %llu bytes to "
			    "%s", j->j_tar.bt_files,
			    (unsigned long long)j->j_tar.bt_bytes, j->j_dir);
			bs_step_done(bs, j, CASTRA_STEP_SUCCESS, why);
		} else {
			snprintf(why, sizeof(why), "ssh to 127.0.0.1:%u",
			    j->j_port);
			bs_step_done(bs, j, CASTRA_STEP_SUCCESS, why);
		}
		bs_next_step(bs, j);
		return;
	}
	/*
	 * sshd may not listen yet: keep trying while connect may, unless
	 * it did answer and said no.
	 */
	if (j->j_step == BS_CONNECT && code == 255 &&
	    now + BS_RETRY_MS < j->j_deadline &&
	    memmem(j->j_output.bo_tail, j->j_output.bo_taillen,
	    "Permission denied", 17) == NULL &&
	    memmem(j->j_output.bo_tail, j->j_output.bo_taillen,
	    "Host key verification failed", 28) == NULL) {
		j->j_next = now + BS_RETRY_MS;
		bootstrap_out_reset(&j->j_output);
		return;
	}
	/*
	 * timeout(1) in the guest kills its whole group, itself too:
	 * ssh then says 255 (a remote signal), 137 or 124.
	 */
	if (j->j_step == BS_APPLY && (code == 137 || code == 124 ||
	    code == 255) &&
	    now - j->j_stepstart >= (int64_t)vm->vm_bootstrap_timeout * 1000)
		snprintf(why, sizeof(why), "timed out after %us",
		    vm->vm_bootstrap_timeout);
	else if (code == -1)
		snprintf(why, sizeof(why), "ssh ended by signal %d",
		    WTERMSIG(status));
	else if (code == 255)
		snprintf(why, sizeof(why), "ssh failed (exit 255)");
	else
		snprintf(why, sizeof(why), "%s exited %d",
		    j->j_step == BS_APPLY ? "run.sh" : j->j_step == BS_VERIFY ?
		    "the verify command" : "the remote command", code);
	bs_fail(bs, j, why);
}

static void
bs_ssh_advance(struct bootstrap_set *bs, struct bs_job *j)
{
	char	 buf[4096];
	ssize_t	 n;
	int	 status;
	int64_t	 now = bs_now();

	if (j->j_pid == 0) {
		if (now < j->j_next)
			return;
		if (j->j_step == BS_TRANSFER && j->j_tarfd == -1) {
			if ((j->j_tarfd = memfd_create("castra-bootstrap",
			    MFD_CLOEXEC)) == -1 ||
			    write(j->j_tarfd, j->j_tar.bt_buf,
			    j->j_tar.bt_len) != (ssize_t)j->j_tar.bt_len) {
				bs_fail(bs, j, strerror(errno));
				return;
			}
		}
		if (bs_ssh_spawn(bs, j, j->j_step) == -1)
			bs_fail(bs, j, strerror(errno));
		return;
	}
	while (j->j_out != -1) {
		n = read(j->j_out, buf, sizeof(buf));
		if (n > 0) {
			bootstrap_out_feed(&j->j_output, buf, n);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		close(j->j_out);
		j->j_out = -1;
	}
	if (!j->j_killed && now >= j->j_deadline + (j->j_step == BS_APPLY ||
	    j->j_step == BS_VERIFY ? BS_GRACE_MS : 0)) {
		kill(-j->j_pid, SIGKILL);
		j->j_killed = 1;
	}
	if (j->j_out == -1 || j->j_killed) {
		if (waitpid(j->j_pid, &status, j->j_killed ? 0 : WNOHANG) ==
		    j->j_pid) {
			if (j->j_out != -1) {
				close(j->j_out);
				j->j_out = -1;
			}
			bs_ssh_ended(bs, j, status);
		}
	}
}

/* The request that the agent hears on vm:<name>. */
static char *
bs_agent_request(struct bs_job *j)
{
	const struct vm	*vm = j->j_in->in_vm;
	json_t		*o, *env;
	char		 reply[96], *s;
	int		 k;

	if ((env = json_object()) == NULL)
		return (NULL);
	for (k = 0; k < vm->vm_nenv; k++)
		json_object_set_new(env, vm->vm_env[k].ev_name,
		    json_string(vm->vm_env[k].ev_value));
	snprintf(reply, sizeof(reply), "bootstrap:%s", j->j_runid);
	o = json_pack("{s:s, s:s, s:s, s:o, s:I}", "bootstrap", "run",
	    "run_id", j->j_runid, "reply", reply, "env", env, "timeout_ms",
	    (json_int_t)vm->vm_bootstrap_timeout * 1000);
	if (o == NULL)
		return (NULL);
	if (vm->vm_verify != NULL)
		json_object_set_new(o, "verify", json_string(vm->vm_verify));
	/* fw_cfg holds the tar of the VM's boot: it may be another. */
	json_object_set_new(o, "sha256", json_string(j->j_sha256));
	json_object_set_new(o, "size", json_integer(j->j_tar.bt_len));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return (s);
}

static void
bs_agent_connect(struct bootstrap_set *bs, struct bs_job *j)
{
	struct castra_error	 ce;
	char			 topic[96], *req, why[256];
	int			 delivered = 0;

	/*
	 * An agent without it would never answer.  auto runs what can
	 * run, so it skips with a warning; always fails.
	 */
	if (!j->j_capable) {
		snprintf(why, sizeof(why), "the guest's castra-agent does not "
		    "offer %s (it offers: %s); use `bootstrap ssh` or a newer "
		    "agent", BS_CAPABILITY, j->j_caps[0] ? j->j_caps : "none");
		if (j->j_mode == BOOTSTRAP_ALWAYS) {
			bs_fail(bs, j, why);
			return;
		}
		bs_step_done(bs, j, CASTRA_STEP_SKIPPED, why);
		bs_emit(bs, CASTRA_EV_WARNING, j->j_name, why, NULL, 0, 0);
		j->j_skipped = 1;
		bs_complete(bs, j);
		return;
	}
	snprintf(topic, sizeof(topic), "bootstrap:%s", j->j_runid);
	if (castra_bus_open(bs->bs_c, &j->j_bus, &ce) == -1 ||
	    castra_bus_subscribe(j->j_bus, topic, &ce) == -1) {
		bs_fail(bs, j, ce.ce_message);
		return;
	}
	if ((req = bs_agent_request(j)) == NULL) {
		bs_fail(bs, j, "out of memory");
		return;
	}
	snprintf(topic, sizeof(topic), "vm:%s", j->j_name);
	if (castra_bus_publish(j->j_bus, topic, req, &delivered, &ce) == -1) {
		free(req);
		bs_fail(bs, j, ce.ce_message);
		return;
	}
	free(req);
	if (delivered == 0) {
		bs_fail(bs, j, "no agent session of this VM is on the bus");
		return;
	}
	snprintf(why, sizeof(why), "request published to %s", topic);
	bs_step_done(bs, j, CASTRA_STEP_SUCCESS, why);
	bs_next_step(bs, j);
}

/* One step result from the agent, for the step under way. */
static void
bs_agent_reply(struct bootstrap_set *bs, struct bs_job *j, const char *json)
{
	struct bootstrap_reply	 br;
	char			 detail[512];

	if (bootstrap_reply_parse(json, strlen(json), j->j_name,
	    bs_stepnames[j->j_step], &br) == -1)
		return;
	j->j_output = br.br_out;
	if (j->j_step == BS_APPLY && br.br_out.bo_noop)
		j->j_noop = 1;
	bootstrap_out_tail(&br.br_detail, detail, sizeof(detail));
	switch (br.br_status) {
	case CASTRA_STEP_SUCCESS:
	case CASTRA_STEP_SKIPPED:
		bs_step_done(bs, j, br.br_status, detail);
		bs_next_step(bs, j);
		break;
	default:
		bs_fail(bs, j, detail[0] != '\0' ? detail :
		    "the agent reported a failure");
		break;
	}
}

static void
bs_agent_advance(struct bootstrap_set *bs, struct bs_job *j)
{
	struct castra_error	 ce;
	char			*s, why[128];
	int			 rv = 0;

	if (j->j_step == BS_CONNECT) {
		bs_agent_connect(bs, j);
		return;
	}
	/* 1 ms, not 0: castra_bus_next reads the socket only if it waits. */
	while (j->j_state == BS_RUNNING &&
	    (rv = castra_bus_next(j->j_bus, &s, 1, &ce)) == 1) {
		bs_agent_reply(bs, j, s);
		free(s);
	}
	if (j->j_state != BS_RUNNING)
		return;
	if (rv == -1) {
		bs_fail(bs, j, ce.ce_message);
		return;
	}
	if (bs_now() >= j->j_deadline + BS_GRACE_MS) {
		snprintf(why, sizeof(why), "no answer from the agent within "
		    "%llds", (long long)(bs_now() - j->j_stepstart) / 1000);
		bs_fail(bs, j, why);
	}
}

/*
 * The guest's host key is pinned for one boot: a new boot has a fresh
 * overlay and may have a new key, so a pin older than the launch goes.
 */
static void
bs_forget_key(struct bs_job *j)
{
	struct stat	 st;
	int64_t		 mtime;

	if (j->j_known[0] == '\0' || stat(j->j_known, &st) == -1)
		return;
	mtime = (int64_t)st.st_mtim.tv_sec * 1000 +
	    st.st_mtim.tv_nsec / 1000000;
	if (mtime < j->j_launched)
		(void)unlink(j->j_known);
}

static void
bs_advance(struct bootstrap_set *bs, struct bs_job *j)
{
	char	 why[PATH_MAX + 64];
	int	 rv;

	if (j->j_step == BS_WAIT) {
		if (bs_now() < j->j_next)
			return;
		j->j_next = bs_now() + 200;
		if ((rv = bs_handshake(bs, j, why, sizeof(why))) == 1) {
			bs_step_done(bs, j, CASTRA_STEP_SUCCESS, why);
			bs_forget_key(j);
			bs_next_step(bs, j);
		} else if (rv == -1)
			bs_fail(bs, j, why);
		else if (bs_now() >= j->j_deadline)
			bs_fail(bs, j, "no hello from this boot of the VM "
			    "within 120s");
		return;
	}
	if (j->j_in->in_vm->vm_ssh)
		bs_ssh_advance(bs, j);
	else
		bs_agent_advance(bs, j);
}

/* May this VM begin?  1 yes, 0 not yet, -1 never (*whop names why). */
static int
bs_ready(struct bootstrap_set *bs, struct bs_job *j, const char **whop)
{
	struct bs_job	*d;
	size_t		 i;
	int		 k, rv = 1;

	for (k = 0; k < j->j_in->in_vm->vm_ndepends; k++)
		for (i = 0; i < bs->bs_njobs; i++) {
			d = &bs->bs_jobs[i];
			if (strcmp(d->j_in->in_vm->vm_name,
			    j->j_in->in_vm->vm_depends[k]) != 0)
				continue;
			if (d->j_state == BS_FAILED) {
				*whop = d->j_name;
				return (-1);
			}
			if (d->j_state == BS_IDLE || d->j_state == BS_RUNNING)
				rv = 0;
		}
	return (rv);
}

static size_t
bs_pollfds(struct bootstrap_set *bs, struct pollfd *pfd, size_t max)
{
	size_t	 i, n = 0;

	/* Beyond max, a child's output waits for the next tick. */
	for (i = 0; i < bs->bs_njobs && n < max; i++)
		if (bs->bs_jobs[i].j_state == BS_RUNNING &&
		    bs->bs_jobs[i].j_out != -1) {
			pfd[n].fd = bs->bs_jobs[i].j_out;
			pfd[n].events = POLLIN;
			n++;
		}
	return (n);
}

static void
bs_result(struct bootstrap_set *bs, struct castra_error *ce)
{
	struct bs_job	*j, *first = NULL;
	size_t		 i;
	int		 nfailed = 0;

	for (i = 0; i < bs->bs_njobs; i++) {
		j = &bs->bs_jobs[i];
		if (j->j_state != BS_FAILED)
			continue;
		if (first == NULL)
			first = j;
		nfailed++;
	}
	if (first == NULL)
		return;
	castra_seterr(ce, 70, "bootstrap of %s failed at %s%s\nthe VM%s "
	    "still running for inspection; see `castra logs --bootstrap %s`",
	    first->j_name, first->j_error, nfailed > 1 ? " (and more "
	    "VMs failed)" : "", nfailed > 1 ? "s are" : " is", first->j_name);
}

int
bootstrap_run(struct bootstrap_set *bs, castra_event_fn *fn, void *arg,
    struct castra_error *ce)
{
	struct pollfd	 pfd[256];
	void		(*oldpipe)(int);
	struct bs_job	*j;
	const char	*who;
	char		 why[256], path[PATH_MAX];
	size_t		 i, n;
	int		 busy, rv;

	bs->bs_fn = fn;
	bs->bs_arg = arg;
	if (!bootstrap_pending(bs))
		return (0);
	if ((bs->bs_rootfd = open(bs->bs_c->c_root, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		castra_seterr(ce, 73, "%s: %s", bs->bs_c->c_root,
		    strerror(errno));
		return (-1);
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", bs->bs_c->c_root,
	    BOOTSTRAP_LOGDIR) >= sizeof(path))
		errno = ENAMETOOLONG;
	else if (state_mkpath(path) == 0)
		path[0] = '\0';
	if (path[0] != '\0') {
		castra_seterr(ce, 73, "%s: %s", path, strerror(errno));
		return (-1);
	}
	/* A broker or a child that hangs up must not kill castra. */
	oldpipe = signal(SIGPIPE, SIG_IGN);
	for (;;) {
		busy = 0;
		for (i = 0; i < bs->bs_njobs; i++) {
			j = &bs->bs_jobs[i];
			if (j->j_state == BS_IDLE && j->j_run != 1)
				j->j_state = BS_NOTRUN;
			if (j->j_state == BS_IDLE) {
				if ((rv = bs_ready(bs, j, &who)) == 1)
					bs_start(bs, j);
				else if (rv == -1) {
					bs_start(bs, j);
					snprintf(why, sizeof(why), "not run: "
					    "%s, which it depends on, failed",
					    who);
					bs_fail(bs, j, why);
				}
			}
			if (j->j_state == BS_RUNNING)
				bs_advance(bs, j);
			if (j->j_state == BS_IDLE || j->j_state == BS_RUNNING)
				busy = 1;
		}
		if (!busy)
			break;
		n = bs_pollfds(bs, pfd, sizeof(pfd) / sizeof(pfd[0]));
		if (poll(pfd, n, BS_POLL_MS) == -1 && errno != EINTR) {
			castra_seterr(ce, 71, "poll: %s", strerror(errno));
			signal(SIGPIPE, oldpipe);
			return (-1);
		}
	}
	signal(SIGPIPE, oldpipe);
	bs_result(bs, ce);
	return (ce->ce_code != 0 ? -1 : 0);
}
