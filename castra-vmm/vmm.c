/*
 * castra-vmm(8): starts, watches and stops the QEMU processes of every
 * project, on castrad's request.
 *
 * castrad passes the state root of a project as a descriptor with each
 * request; everything of a VM's own lives below it.  QEMU outlives this
 * process: a VM is watched through a pidfd and talked to over QMP, and
 * after a restart castrad asks for each VM to be adopted again.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "castra.h"
#include "imsg.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "vmm.h"

#define VMM_QMP_POLL_MS		20
#define VMM_QMP_DEADLINE_MS	30000
#define VMM_POWERDOWN_EVERY_MS	1000
#define VMM_SIGKILL_MIN_MS	1000

#define VMM_BOOTSTRAPS_MAX	64	/* tars waiting for their start */

struct guestlist	 guests = TAILQ_HEAD_INITIALIZER(guests);
static char		 vmm_accel[8];

/*
 * Bootstrap tars that castrad sent just before the start requests of
 * their VMs (IMSG_VMM_BOOTSTRAP); a start takes its own.
 */
static struct vmm_bootstrap	 vmm_boots[VMM_BOOTSTRAPS_MAX];
static int			 vmm_bootfds[VMM_BOOTSTRAPS_MAX];
static int			 vmm_nboots;

static int	vmm_dispatch(struct imsg *);
static void	vmm_start(struct vmm_start *, int);
static void	vmm_stop(struct vmm_stop *);
static void	vmm_adopt(struct vmm_vm *, int);
static void	vmm_handshake(struct broker_vm *);
static void	vmm_launch_poll(int, short, void *);
static void	vmm_qmp_ready(void *);
static void	vmm_exited(int, short, void *);
static void	vmm_stop_tick(int, short, void *);
static void	vmm_stop_step(struct vmm_guest *);
static void	vmm_stop_done(struct vmm_guest *);
static void	vmm_watch(struct vmm_guest *);

int64_t
vmm_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Keep a VM's tar for its start, in place of an older one. */
static void
vmm_boot_keep(const struct vmm_bootstrap *vb, int fd)
{
	int	 i;

	for (i = 0; i < vmm_nboots; i++)
		if (strcmp(vmm_boots[i].vb_project, vb->vb_project) == 0 &&
		    strcmp(vmm_boots[i].vb_name, vb->vb_name) == 0)
			break;
	if (i == VMM_BOOTSTRAPS_MAX) {
		log_warnx("%s: too many bootstrap tars waiting; dropped",
		    vb->vb_name);
		close(fd);
		return;
	}
	if (i < vmm_nboots)
		close(vmm_bootfds[i]);
	else
		vmm_nboots++;
	vmm_boots[i] = *vb;
	vmm_bootfds[i] = fd;
}

/* The tar kept for a VM, now the caller's, or -1. */
static int
vmm_boot_take(const char *project, const char *name)
{
	int	 i, fd;

	for (i = 0; i < vmm_nboots; i++) {
		if (strcmp(vmm_boots[i].vb_project, project) != 0 ||
		    strcmp(vmm_boots[i].vb_name, name) != 0)
			continue;
		fd = vmm_bootfds[i];
		vmm_nboots--;
		vmm_boots[i] = vmm_boots[vmm_nboots];
		vmm_bootfds[i] = vmm_bootfds[vmm_nboots];
		return (fd);
	}
	return (-1);
}

static struct vmm_guest *
vmm_find(const char *project, const char *name)
{
	struct vmm_guest	*vm;

	TAILQ_FOREACH(vm, &guests, vm_entry)
		if (strcmp(vm->vm_project, project) == 0 &&
		    strcmp(vm->vm_name, name) == 0)
			return (vm);
	return (NULL);
}

static struct vmm_guest *
vmm_new(const char *project, const char *name, int dirfd)
{
	struct vmm_guest	*vm;
	int			 i;

	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		return (NULL);
	strlcpy(vm->vm_project, project, sizeof(vm->vm_project));
	strlcpy(vm->vm_name, name, sizeof(vm->vm_name));
	vm->vm_dirfd = dirfd;
	vm->vm_pidfd = -1;
	for (i = 0; i < QEMU_NFDS; i++)
		vm->vm_qemufds[i] = -1;
	strlcpy(vm->vm_accel, vmm_accel, sizeof(vm->vm_accel));
	qmp_init(&vm->vm_qmp, vmm_qmp_ready, vm);
	evtimer_set(&vm->vm_timer, vmm_launch_poll, vm);
	TAILQ_INSERT_TAIL(&guests, vm, vm_entry);
	return (vm);
}

static void
vmm_free(struct vmm_guest *vm)
{
	TAILQ_REMOVE(&guests, vm, vm_entry);
	evtimer_del(&vm->vm_timer);
	if (vm->vm_pidfd != -1) {
		event_del(&vm->vm_pidev);
		close(vm->vm_pidfd);
	}
	qmp_close(&vm->vm_qmp);
	qemu_argv_free(vm);
	qemu_fds_close(vm);
	if (vm->vm_dirfd != -1)
		close(vm->vm_dirfd);
	free(vm);
}

static void
vmm_timer(struct vmm_guest *vm, void (*cb)(int, short, void *), int64_t ms)
{
	struct timeval	 tv;

	evtimer_del(&vm->vm_timer);
	evtimer_set(&vm->vm_timer, cb, vm);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&vm->vm_timer, &tv);
}

static void
vmm_send_vm(struct vmm_guest *vm, uint32_t type, int32_t status)
{
	struct vmm_vm	 vv;

	memset(&vv, 0, sizeof(vv));
	strlcpy(vv.vv_project, vm->vm_project, sizeof(vv.vv_project));
	strlcpy(vv.vv_name, vm->vm_name, sizeof(vv.vv_name));
	vv.vv_pid = vm->vm_pid;
	vv.vv_starttime = vm->vm_starttime;
	strlcpy(vv.vv_accel, vm->vm_accel, sizeof(vv.vv_accel));
	vv.vv_status = status;
	if (proc_parent_compose(type, 0, -1, &vv, sizeof(vv)) == -1)
		log_warn("%s: cannot tell castrad", vm->vm_name);
}

static void
vmm_send_fail(const char *project, const char *name, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static void
vmm_send_fail(const char *project, const char *name, const char *fmt, ...)
{
	struct vmm_fail	 vf;
	va_list		 ap;

	memset(&vf, 0, sizeof(vf));
	strlcpy(vf.vf_project, project, sizeof(vf.vf_project));
	strlcpy(vf.vf_name, name, sizeof(vf.vf_name));
	va_start(ap, fmt);
	vsnprintf(vf.vf_message, sizeof(vf.vf_message), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", name, vf.vf_message);
	if (proc_parent_compose(IMSG_VMM_FAIL_RESPONSE, 0, -1, &vf,
	    sizeof(vf)) == -1)
		log_warn("%s: cannot tell castrad", name);
}

static void
vmm_send_stop(struct vmm_guest *vm, uint32_t imsg, uint32_t type,
    uint64_t ms, uint64_t bytes, const char *text)
{
	struct vmm_stop_event	 se;

	memset(&se, 0, sizeof(se));
	strlcpy(se.se_project, vm->vm_project, sizeof(se.se_project));
	strlcpy(se.se_name, vm->vm_name, sizeof(se.se_name));
	se.se_type = type;
	se.se_ms = ms;
	se.se_bytes = bytes;
	strlcpy(se.se_text, text, sizeof(se.se_text));
	if (proc_parent_compose(imsg, 0, -1, &se, sizeof(se)) == -1)
		log_warn("%s: cannot tell castrad", vm->vm_name);
}

/* Throw away what a VM that is gone leaves behind, keeping its record. */
static uint64_t
vmm_cleanup(struct vmm_guest *vm, enum vm_state state)
{
	uint64_t	 bytes;

	if (overlay_remove(vm->vm_dirfd, vm->vm_name, &bytes) == -1)
		log_warn("%s: cannot remove its overlay", vm->vm_name);
	qemu_remove_run(vm->vm_dirfd, vm->vm_name);
	vm->vm_state = state;
	record_write(vm);
	return (bytes);
}

/* QEMU went away at once: say why, from its own words and the guest's. */
static void
vmm_died_at_once(struct vmm_guest *vm)
{
	char	 path[VM_NAME_MAX + 32], err[256], serial[192];

	snprintf(path, sizeof(path), "logs/%s.log", vm->vm_name);
	if (qemu_tail(vm->vm_dirfd, path, err, sizeof(err)) == -1)
		err[0] = '\0';
	snprintf(path, sizeof(path), "logs/%s-serial.log", vm->vm_name);
	if (qemu_tail(vm->vm_dirfd, path, serial, sizeof(serial)) == -1)
		serial[0] = '\0';
	vmm_send_fail(vm->vm_project, vm->vm_name, "QEMU exited before it "
	    "was ready; see logs/%s.log and logs/%s-serial.log in the "
	    "state root\n%s%s%s", vm->vm_name, vm->vm_name, err,
	    serial[0] != '\0' ? "\nserial console:\n" : "", serial);
	vmm_cleanup(vm, VM_ST_ERROR);
	vmm_free(vm);
}

/*
 * Everything QEMU will be given, made anew: the overlay, the logs, the
 * QMP socket, the token and the bootstrap tar.  What an earlier boot
 * left goes first, and with it any link put in place of one of them.
 */
static int
vmm_start_prepare(struct vmm_guest *vm, const struct vmm_start *vs,
    int bootfd)
{
	char	 base[1024], err[CTL_TEXT_MAX - 64];
	char	 log[VM_NAME_MAX + 16], serial[VM_NAME_MAX + 24];
	const char *const files[] = { vs->vs_kernel, vs->vs_initrd };
	int	*fds = vm->vm_qemufds;
	size_t	 i;

	for (i = 0; i < 2; i++) {
		snprintf(base, sizeof(base), "%s/images/sha256/%s",
		    proc_env.pe_home, files[i]);
		if (files[i][0] != '\0' && access(base, R_OK) == -1) {
			vmm_send_fail(vm->vm_project, vm->vm_name, "%s: %s; "
			    "fetch the image again (castra up)", base,
			    strerror(errno));
			return (-1);
		}
	}
	qemu_remove_run(vm->vm_dirfd, vm->vm_name);
	snprintf(base, sizeof(base), "%s/images/sha256/%s",
	    proc_env.pe_home, vs->vs_disk);
	if ((fds[QEMU_FD_DISK] = overlay_create(vm->vm_dirfd, vm->vm_name,
	    base, &fds[QEMU_FD_DISK_RO], err, sizeof(err))) == -1) {
		vmm_send_fail(vm->vm_project, vm->vm_name,
		    "cannot create its overlay: %s", err);
		return (-1);
	}
	snprintf(log, sizeof(log), "logs/%s.log", vm->vm_name);
	snprintf(serial, sizeof(serial), "logs/%s-serial.log", vm->vm_name);
	if (qemu_create(vm, QEMU_FD_LOG, log) == -1 ||
	    qemu_create(vm, QEMU_FD_SERIAL, serial) == -1) {
		vmm_send_fail(vm->vm_project, vm->vm_name,
		    "cannot create %s: %s; check the state root",
		    fds[QEMU_FD_LOG] == -1 ? log : serial, strerror(errno));
		return (-1);
	}
	if ((fds[QEMU_FD_QMP] = qmp_listen(vm->vm_dirfd, vm->vm_name)) ==
	    -1) {
		vmm_send_fail(vm->vm_project, vm->vm_name,
		    "cannot listen on run/%s.qmp: %s; check the state root",
		    vm->vm_name, strerror(errno));
		return (-1);
	}
	if (vs->vs_token[0] != '\0' && (fds[QEMU_FD_TOKEN] =
	    qemu_write_token(vm->vm_dirfd, vm->vm_name, vs->vs_token)) == -1) {
		vmm_send_fail(vm->vm_project, vm->vm_name,
		    "cannot write run/%s.token: %s; check the state root",
		    vm->vm_name, strerror(errno));
		return (-1);
	}
	if (bootfd != -1 && (fds[QEMU_FD_BOOTSTRAP] =
	    qemu_write_bootstrap(vm->vm_dirfd, vm->vm_name, bootfd)) == -1) {
		vmm_send_fail(vm->vm_project, vm->vm_name,
		    "cannot write run/%s-bootstrap.tar: %s; check the state "
		    "root", vm->vm_name, strerror(errno));
		return (-1);
	}
	vm->vm_bootstrap = bootfd != -1;
	if (qemu_argv(vm, vs, proc_env.pe_home) == -1) {
		vmm_send_fail(vm->vm_project, vm->vm_name,
		    "its QEMU command line is too long");
		return (-1);
	}
	return (0);
}

/*
 * A QEMU of this VM that nobody adopted may still run on the overlay
 * that a start would replace: 1 if so, per its record; 2 if one runs
 * that its record (lost or damaged) does not name.
 */
static int
vmm_still_running(int dirfd, const char *name, pid_t *pid)
{
	struct vmm_guest	 old;
	int			 rc = 0;

	memset(&old, 0, sizeof(old));
	strlcpy(old.vm_name, name, sizeof(old.vm_name));
	if (record_read(dirfd, name, &old) == 0 &&
	    old.vm_state != VM_ST_STOPPED &&
	    qemu_identity(old.vm_pid, old.vm_starttime, old.vm_argv,
	    old.vm_argc) == 1) {
		*pid = old.vm_pid;
		rc = 1;
	} else if (stray_find(dirfd, name, &old) == 1) {
		*pid = old.vm_pid;
		rc = 2;
	}
	qemu_argv_free(&old);
	return (rc);
}

static void
vmm_start(struct vmm_start *vs, int dirfd)
{
	struct vmm_guest	*vm;
	char			 err[CTL_TEXT_MAX - 64];
	pid_t			 pid;
	int			 bootfd, rv;

	/* Taken now, so that no later start finds a stale one. */
	bootfd = vmm_boot_take(vs->vs_project, vs->vs_name);
	if ((vm = vmm_find(vs->vs_project, vs->vs_name)) != NULL) {
		vmm_send_fail(vs->vs_project, vs->vs_name, "it is already "
		    "%s (pid %d); stop it first with castra down",
		    record_state_name(vm->vm_state), (int)vm->vm_pid);
		close(dirfd);
		if (bootfd != -1)
			close(bootfd);
		return;
	}
	if ((rv = vmm_still_running(dirfd, vs->vs_name, &pid)) != 0) {
		if (rv == 2)
			vmm_send_fail(vs->vs_project, vs->vs_name, "its QEMU "
			    "(pid %d) still runs, but vms/%s.json does not "
			    "name it; castra down stops it", (int)pid,
			    vs->vs_name);
		else
			vmm_send_fail(vs->vs_project, vs->vs_name, "its QEMU "
			    "(pid %d) still runs unwatched; adopt it, or stop "
			    "it first", (int)pid);
		close(dirfd);
		if (bootfd != -1)
			close(bootfd);
		return;
	}
	if ((vm = vmm_new(vs->vs_project, vs->vs_name, dirfd)) == NULL) {
		vmm_send_fail(vs->vs_project, vs->vs_name, "out of memory");
		close(dirfd);
		if (bootfd != -1)
			close(bootfd);
		return;
	}
	vm->vm_up_at_ms = vmm_now_ms();
	vm->vm_cpus = vs->vs_cpus;
	vm->vm_memory_mib = vs->vs_memory_mib;
	vm->vm_nforwards = vs->vs_nforwards;
	memcpy(vm->vm_forwards, vs->vs_forwards, sizeof(vm->vm_forwards));
	rv = vmm_start_prepare(vm, vs, bootfd);
	if (bootfd != -1)
		close(bootfd);
	if (rv == -1)
		goto fail;

	vm->vm_pid = qemu_launch(vm, err, sizeof(err));
	qemu_fds_close(vm);
	if (vm->vm_pid == -1) {
		vmm_send_fail(vm->vm_project, vm->vm_name, "%s", err);
		goto fail;
	}
	vm->vm_launched_at_ms = vmm_now_ms();
	log_info("%s: launched QEMU, pid %d, %s", vm->vm_name,
	    (int)vm->vm_pid, vm->vm_accel);
	if (qemu_starttime(vm->vm_pid, &vm->vm_starttime) == -1) {
		vmm_died_at_once(vm);
		return;
	}
	vmm_watch(vm);
	if (vm->vm_pidfd == -1) {
		vmm_died_at_once(vm);
		return;
	}
	vm->vm_state = VM_ST_STARTING;
	record_write(vm);
	vm->vm_deadline_ms = vm->vm_launched_at_ms + VMM_QMP_DEADLINE_MS;
	vmm_timer(vm, vmm_launch_poll, VMM_QMP_POLL_MS);
	return;

 fail:
	vmm_cleanup(vm, VM_ST_ERROR);
	vmm_free(vm);
}

/*
 * Watch the process through a pidfd, which also makes every later
 * signal go to this very process whatever happens to its pid.
 */
static void
vmm_watch(struct vmm_guest *vm)
{
	int	 fd;

	if ((fd = syscall(SYS_pidfd_open, vm->vm_pid, 0)) == -1)
		return;
	/* The pid might have been reused before the pidfd pinned it. */
	if (qemu_identity(vm->vm_pid, vm->vm_starttime, vm->vm_argv,
	    vm->vm_argc) != 1) {
		close(fd);
		return;
	}
	vm->vm_pidfd = fd;
	event_set(&vm->vm_pidev, fd, EV_READ, vmm_exited, vm);
	event_add(&vm->vm_pidev, NULL);
}

/*
 * Signal QEMU only while its start time and command line still match
 * the record; the pidfd then aims at that very process.  Returns -1
 * when the process is not there to signal.
 */
static int
vmm_signal(struct vmm_guest *vm, int sig)
{
	if (vm->vm_pidfd == -1 || qemu_identity(vm->vm_pid,
	    vm->vm_starttime, vm->vm_argv, vm->vm_argc) != 1) {
		log_warnx("%s: pid %d is no longer its QEMU, not signalling",
		    vm->vm_name, (int)vm->vm_pid);
		return (-1);
	}
	if (syscall(SYS_pidfd_send_signal, vm->vm_pidfd, sig, NULL, 0) ==
	    -1) {
		if (errno != ESRCH)
			log_warn("%s: signal %d to pid %d", vm->vm_name, sig,
			    (int)vm->vm_pid);
		return (-1);
	}
	return (0);
}

static void
vmm_qmp_try(struct vmm_guest *vm)
{
	char	 path[VM_NAME_MAX + 16];

	if (vm->vm_qmp.q_state != QMP_CLOSED)
		return;
	snprintf(path, sizeof(path), "run/%s.qmp", vm->vm_name);
	if (qmp_connect(&vm->vm_qmp, vm->vm_dirfd, path) == -1 &&
	    errno != ENOENT && errno != ECONNREFUSED)
		log_warn("%s: connect %s", vm->vm_name, path);
}

/* Until QEMU listens on its QMP socket, try it every few ms. */
static void
vmm_launch_poll(int fd, short event, void *arg)
{
	struct vmm_guest	*vm = arg;
	int64_t			 left;

	vmm_qmp_try(vm);
	if ((left = vm->vm_deadline_ms - vmm_now_ms()) > 0) {
		vmm_timer(vm, vmm_launch_poll,
		    vm->vm_qmp.q_state == QMP_CLOSED ? VMM_QMP_POLL_MS : left);
		return;
	}
	if (vm->vm_answered)
		return;
	/* Running but unreachable is of no use; its exit says the rest. */
	log_warnx("%s: QEMU (pid %d) did not answer on run/%s.qmp within "
	    "%d s, killing it", vm->vm_name, (int)vm->vm_pid, vm->vm_name,
	    VMM_QMP_DEADLINE_MS / 1000);
	if (vmm_signal(vm, SIGKILL) == -1)
		vmm_died_at_once(vm);
}

/* QMP is up: QEMU runs.  Answer castrad, or go on with a stop. */
static void
vmm_qmp_ready(void *arg)
{
	struct vmm_guest	*vm = arg;

	log_debug("%s: %s: QMP ready", __func__, vm->vm_name);
	if (vm->vm_state == VM_ST_STARTING) {
		vm->vm_state = VM_ST_RUNNING;
		record_write(vm);
	}
	if (!vm->vm_answered) {
		vm->vm_answered = 1;
		vmm_send_vm(vm, IMSG_VMM_START_RESPONSE, 0);
	}
	if (vm->vm_stop == VM_STOP_GRACEFUL)
		qmp_send(&vm->vm_qmp, "{\"execute\":\"system_powerdown\"}");
}

/* The pidfd turned readable: QEMU is gone. */
static void
vmm_exited(int fd, short event, void *arg)
{
	struct vmm_guest	*vm = arg;

	log_info("%s: QEMU (pid %d) exited", vm->vm_name, (int)vm->vm_pid);
	event_del(&vm->vm_pidev);
	close(vm->vm_pidfd);
	vm->vm_pidfd = -1;
	qmp_close(&vm->vm_qmp);
	if (vm->vm_stop != VM_STOP_NONE) {
		vmm_stop_done(vm);
		return;
	}
	if (!vm->vm_answered) {
		vmm_died_at_once(vm);
		return;
	}
	/* Not a child of ours: its wait status is not ours to know. */
	vmm_cleanup(vm, VM_ST_STOPPED);
	vmm_send_vm(vm, IMSG_VMM_EXIT_EVENT, -1);
	vmm_free(vm);
}

static void
vmm_stop(struct vmm_stop *vs)
{
	struct vmm_guest	*vm;

	if ((vm = vmm_find(vs->vs_project, vs->vs_name)) == NULL) {
		struct vmm_guest	 gone;

		memset(&gone, 0, sizeof(gone));
		strlcpy(gone.vm_project, vs->vs_project,
		    sizeof(gone.vm_project));
		strlcpy(gone.vm_name, vs->vs_name, sizeof(gone.vm_name));
		vmm_send_stop(&gone, IMSG_VMM_STOP_RESPONSE,
		    CASTRA_EV_SHUTDOWN_COMPLETE, 0, 0, "not running");
		return;
	}
	if (vm->vm_stop != VM_STOP_NONE) {
		log_info("%s: already stopping", vm->vm_name);
		return;
	}
	log_info("%s: stopping QEMU (pid %d)", vm->vm_name, (int)vm->vm_pid);
	vm->vm_wait[0] = vs->vs_wait_graceful;
	vm->vm_wait[1] = vs->vs_wait_sigterm;
	vm->vm_wait[2] = vs->vs_wait_sigkill;
	vm->vm_stop_at_ms = vmm_now_ms();
	vm->vm_state = VM_ST_STOPPING;
	record_write(vm);
	vmm_stop_step(vm);
}

/* Take the next step of a stop and arm the timer for its wait. */
static void
vmm_stop_step(struct vmm_guest *vm)
{
	int64_t	 now = vmm_now_ms();
	uint64_t wait = 0;

	vm->vm_step_at_ms = now;
	switch (vm->vm_stop) {
	case VM_STOP_NONE:
		vm->vm_stop = VM_STOP_GRACEFUL;
		wait = (uint64_t)vm->vm_wait[0] * 1000;
		vmm_send_stop(vm, IMSG_VMM_STOP_EVENT,
		    CASTRA_EV_COOPERATIVE_ATTEMPTED, wait, 0, "ACPI");
		if (wait == 0) {
			vmm_stop_step(vm);
			return;
		}
		vmm_qmp_try(vm);
		if (vm->vm_qmp.q_state == QMP_READY)
			qmp_send(&vm->vm_qmp,
			    "{\"execute\":\"system_powerdown\"}");
		vm->vm_deadline_ms = now + wait;
		vmm_timer(vm, vmm_stop_tick, wait < VMM_POWERDOWN_EVERY_MS ?
		    wait : VMM_POWERDOWN_EVERY_MS);
		return;
	case VM_STOP_GRACEFUL:
		vmm_send_stop(vm, IMSG_VMM_STOP_EVENT,
		    CASTRA_EV_COOPERATIVE_TIMED_OUT,
		    now - vm->vm_stop_at_ms, 0, "");
		vm->vm_stop = VM_STOP_SIGTERM;
		wait = (uint64_t)vm->vm_wait[1] * 1000;
		if (vmm_signal(vm, SIGTERM) == -1) {
			vmm_stop_done(vm);
			return;
		}
		vmm_send_stop(vm, IMSG_VMM_STOP_EVENT,
		    CASTRA_EV_SHUTDOWN_ESCALATED, wait, 0, "SIGTERM");
		break;
	case VM_STOP_SIGTERM:
		vm->vm_stop = VM_STOP_SIGKILL;
		wait = (uint64_t)vm->vm_wait[2] * 1000;
		if (wait < VMM_SIGKILL_MIN_MS)
			wait = VMM_SIGKILL_MIN_MS;
		if (vmm_signal(vm, SIGKILL) == -1) {
			vmm_stop_done(vm);
			return;
		}
		vmm_send_stop(vm, IMSG_VMM_STOP_EVENT,
		    CASTRA_EV_SHUTDOWN_ESCALATED, wait, 0, "SIGKILL");
		break;
	case VM_STOP_SIGKILL:
		vmm_send_fail(vm->vm_project, vm->vm_name, "QEMU (pid %d) "
		    "did not exit after SIGKILL; it is stuck in the kernel, "
		    "look at /proc/%d/stack", (int)vm->vm_pid,
		    (int)vm->vm_pid);
		vm->vm_state = VM_ST_ERROR;
		record_write(vm);
		return;
	}
	vm->vm_deadline_ms = now + wait;
	vmm_timer(vm, vmm_stop_tick, wait);
}

/*
 * During the graceful wait the power button is pressed again every
 * second: a press that came before the guest listened is lost.
 */
static void
vmm_stop_tick(int fd, short event, void *arg)
{
	struct vmm_guest	*vm = arg;
	int64_t			 left;

	left = vm->vm_deadline_ms - vmm_now_ms();
	if (left <= 0) {
		vmm_stop_step(vm);
		return;
	}
	if (vm->vm_stop == VM_STOP_GRACEFUL) {
		vmm_qmp_try(vm);
		if (vm->vm_qmp.q_state == QMP_READY)
			qmp_send(&vm->vm_qmp,
			    "{\"execute\":\"system_powerdown\"}");
		if (left > VMM_POWERDOWN_EVERY_MS)
			left = VMM_POWERDOWN_EVERY_MS;
	}
	vmm_timer(vm, vmm_stop_tick, left);
}

/* QEMU is gone during a stop: discard the overlay and report. */
static void
vmm_stop_done(struct vmm_guest *vm)
{
	int64_t		 now = vmm_now_ms();
	uint64_t	 bytes;
	int		 graceful = vm->vm_stop == VM_STOP_GRACEFUL;

	if (graceful)
		vmm_send_stop(vm, IMSG_VMM_STOP_EVENT,
		    CASTRA_EV_COOPERATIVE_SUCCEEDED, now - vm->vm_step_at_ms,
		    0, "");
	bytes = vmm_cleanup(vm, VM_ST_STOPPED);
	vmm_send_stop(vm, IMSG_VMM_STOP_EVENT, CASTRA_EV_OVERLAY_DISCARDED,
	    0, bytes, "");
	if (!vm->vm_answered)
		vmm_send_fail(vm->vm_project, vm->vm_name,
		    "it was stopped before it finished starting");
	vmm_send_stop(vm, IMSG_VMM_STOP_RESPONSE, CASTRA_EV_SHUTDOWN_COMPLETE,
	    now - vm->vm_stop_at_ms, bytes, graceful ? "graceful" : "forced");
	log_info("%s: stopped (%s) in %lld ms", vm->vm_name,
	    graceful ? "graceful" : "forced",
	    (long long)(now - vm->vm_stop_at_ms));
	vmm_free(vm);
}

/*
 * Does pid run in the state root dirfd?  Each QEMU is started there,
 * and its start time and command line are anyone's to read in /proc:
 * a record that copies them into another state root, as its owner may
 * write, must not hand that owner someone else's QEMU.  Only a QEMU
 * seen elsewhere is refused: a user's vmm, under Landlock, may not
 * look at a QEMU an earlier vmm started, but then every QEMU and
 * state root it could name is that user's own.
 */
static int
vmm_in_root(struct vmm_guest *vm, int dirfd)
{
	struct stat	 cwd, root;
	char		 path[64];

	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)vm->vm_pid);
	if (fstat(dirfd, &root) == -1 || stat(path, &cwd) == -1)
		return (1);
	if (cwd.st_dev != root.st_dev || cwd.st_ino != root.st_ino) {
		log_warnx("%s: pid %d runs in another state root than its "
		    "record's; not adopted", vm->vm_name, (int)vm->vm_pid);
		return (0);
	}
	return (1);
}

/*
 * After a restart of castrad or of this process: take a VM back from
 * its record if its QEMU is still the one launched, else clean up.
 */
static void
vmm_adopt(struct vmm_vm *vv, int dirfd)
{
	struct vmm_guest	*vm;

	if ((vm = vmm_find(vv->vv_project, vv->vv_name)) != NULL) {
		/*
		 * castrad's newest descriptor of the state root: one that
		 * an owner's castra sent stays writable where a restarted
		 * castrad's own, opened by path, may be read-only.
		 */
		close(vm->vm_dirfd);
		vm->vm_dirfd = dirfd;
		if (vm->vm_answered)
			vmm_send_vm(vm, IMSG_VMM_START_RESPONSE, 0);
		return;
	}
	if ((vm = vmm_new(vv->vv_project, vv->vv_name, dirfd)) == NULL) {
		vmm_send_fail(vv->vv_project, vv->vv_name, "out of memory");
		close(dirfd);
		return;
	}
	if (record_read(dirfd, vm->vm_name, vm) == -1) {
		/* Without a record, its QEMU may still be found. */
		if (stray_find(dirfd, vm->vm_name, vm) != 1) {
			vmm_send_fail(vm->vm_project, vm->vm_name, "cannot "
			    "read vms/%s.json: %s", vm->vm_name,
			    strerror(errno));
			vmm_free(vm);
			return;
		}
		log_warnx("%s: vms/%s.json cannot be read; found its QEMU "
		    "(pid %d) in the state root", vm->vm_name, vm->vm_name,
		    (int)vm->vm_pid);
		vm->vm_state = VM_ST_RUNNING;
	}
	vm->vm_answered = vm->vm_adopted = 1;
	if (vm->vm_state != VM_ST_STOPPED && vmm_in_root(vm, dirfd))
		vmm_watch(vm);
	if (vm->vm_pidfd == -1) {
		log_info("%s: QEMU (pid %d) is gone, cleaning up",
		    vm->vm_name, (int)vm->vm_pid);
		vmm_cleanup(vm, VM_ST_STOPPED);
		vmm_send_vm(vm, IMSG_VMM_EXIT_EVENT, -1);
		vmm_free(vm);
		return;
	}
	log_info("%s: adopted QEMU (pid %d)", vm->vm_name, (int)vm->vm_pid);
	vm->vm_state = VM_ST_RUNNING;
	record_write(vm);
	vmm_qmp_try(vm);
	vmm_send_vm(vm, IMSG_VMM_START_RESPONSE, 0);
}

/* The guest's first hello: now it listens for the power button. */
static void
vmm_handshake(struct broker_vm *bv)
{
	struct vmm_guest	*vm;

	if ((vm = vmm_find(bv->bv_project, bv->bv_name)) == NULL)
		return;
	if (vm->vm_handshake_at_ms == 0) {
		vm->vm_handshake_at_ms = bv->bv_timestamp > 0 ?
		    bv->bv_timestamp : vmm_now_ms();
		record_write(vm);
	}
	if (vm->vm_stop == VM_STOP_GRACEFUL &&
	    vm->vm_qmp.q_state == QMP_READY)
		qmp_send(&vm->vm_qmp, "{\"execute\":\"system_powerdown\"}");
}

static int
vmm_dispatch(struct imsg *imsg)
{
	struct vmm_start	 vs;
	struct vmm_stop		 st;
	struct vmm_vm		 vv;
	struct vmm_bootstrap	 vb;
	struct broker_vm	 bv;
	struct ibuf		 buf;
	int			 fd;

	/* Each reader takes the payload whole, at its exact size. */
	if (imsg_get_type(imsg) != IMSG_VMM_HANDSHAKE_EVENT &&
	    imsg_get_ibuf(imsg, &buf) == -1)
		return (-1);
	switch (imsg_get_type(imsg)) {
	case IMSG_VMM_START_REQUEST:
		fd = imsg_get_fd(imsg);
		if (vmm_read_start(ibuf_data(&buf), ibuf_size(&buf),
		    &vs) == -1 || fd == -1) {
			log_warnx("refusing a malformed start request");
			if (fd != -1)
				close(fd);
			return (-1);
		}
		vmm_start(&vs, fd);
		break;
	case IMSG_VMM_BOOTSTRAP:
		fd = imsg_get_fd(imsg);
		if (vmm_read_bootstrap(ibuf_data(&buf), ibuf_size(&buf),
		    &vb) == -1 || fd == -1) {
			log_warnx("refusing a malformed bootstrap tar");
			if (fd != -1)
				close(fd);
			return (-1);
		}
		vmm_boot_keep(&vb, fd);
		break;
	case IMSG_VMM_STOP_REQUEST:
		if (vmm_read_stop(ibuf_data(&buf), ibuf_size(&buf), &st) ==
		    -1) {
			log_warnx("refusing a malformed stop request");
			return (-1);
		}
		vmm_stop(&st);
		break;
	case IMSG_VMM_ADOPT_REQUEST:
		fd = imsg_get_fd(imsg);
		if (vmm_read_vm(ibuf_data(&buf), ibuf_size(&buf), &vv) ==
		    -1 || fd == -1) {
			log_warnx("refusing a malformed adopt request");
			if (fd != -1)
				close(fd);
			return (-1);
		}
		vmm_adopt(&vv, fd);
		break;
	case IMSG_VMM_HANDSHAKE_EVENT:
		if (proto_read_broker_vm(imsg, &bv) == -1)
			return (-1);
		vmm_handshake(&bv);
		break;
	default:
		return (-1);
	}
	return (0);
}

/*
 * What castra-vmm and everything it starts still need once confined.
 * QEMU and qemu-img inherit this filter across exec (QEMU's own -sandbox
 * filter then narrows it further), so the list covers their calls too:
 * it is the union of strace -f of castra-vmm starting, adopting and
 * stopping guests, of qemu-img creating an overlay, and of QEMU under
 * TCG booting the default image, forwarding a port and powering off.
 */
static const int vmm_syscalls[] = {
	/*
	 * The base list's calls again, unrestricted: QEMU needs them
	 * whatever the base list of the day says.
	 */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(close),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(brk),
	SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(getpid), SCMP_SYS(getrandom),
	SCMP_SYS(exit_group), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl), SCMP_SYS(restart_syscall),
	/* files below the state root and the image cache */
	SCMP_SYS(openat), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(readv),
	SCMP_SYS(lseek), SCMP_SYS(statx), SCMP_SYS(statfs),
	SCMP_SYS(fstatfs), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(ftruncate), SCMP_SYS(fallocate), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(unlinkat), SCMP_SYS(unlink),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(access),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64),
	SCMP_SYS(flock), SCMP_SYS(fchmod), SCMP_SYS(umask),
	SCMP_SYS(getcwd),
	/* below a state root, never through a link (lib/beneath.c) */
	SCMP_SYS(openat2),
	/* the working directory of QEMU is the state root */
	SCMP_SYS(fchdir), SCMP_SYS(chdir),
	/* starting qemu-img and QEMU: double fork, session, exec */
	SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3),
	SCMP_SYS(pipe2), SCMP_SYS(clone), SCMP_SYS(clone3),
	SCMP_SYS(execve), SCMP_SYS(wait4), SCMP_SYS(setsid),
	SCMP_SYS(close_range), SCMP_SYS(getppid),
	/* watching and signalling QEMU by pidfd, checking /proc */
	SCMP_SYS(pidfd_open), SCMP_SYS(pidfd_send_signal),
	/* QMP, and QEMU's user networking, host forwards and sockets */
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(bind),
	SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername), SCMP_SYS(shutdown),
	/*
	 * The dynamic loader maps QEMU's libraries executable and TCG
	 * writes the code it runs: mmap and mprotect without the base
	 * list's ban on PROT_EXEC.
	 */
	SCMP_SYS(mmap), SCMP_SYS(mprotect), SCMP_SYS(memfd_create),
	SCMP_SYS(get_mempolicy), SCMP_SYS(set_mempolicy), SCMP_SYS(mbind),
	SCMP_SYS(membarrier),
	/* QEMU's threads and its event loop */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(set_tid_address), SCMP_SYS(gettid), SCMP_SYS(tgkill),
	SCMP_SYS(exit), SCMP_SYS(arch_prctl), SCMP_SYS(prctl),
	SCMP_SYS(prlimit64), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(sched_yield), SCMP_SYS(ppoll), SCMP_SYS(poll),
	SCMP_SYS(eventfd2), SCMP_SYS(signalfd4), SCMP_SYS(io_uring_setup),
	SCMP_SYS(sigaltstack), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(sysinfo), SCMP_SYS(ioctl),
	SCMP_SYS(uname), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid),
	/* QEMU's -sandbox installs its own filter on top of this one */
	SCMP_SYS(seccomp),
};

static void
vmm_sandbox(void)
{
	/*
	 * As a user, Landlock: QEMU and qemu-img run from /usr, read the
	 * image cache, and write below the state roots; /dev for
	 * /dev/null and /dev/kvm; /proc to check a pid's identity.
	 */
	struct sandbox_path	 paths[] = {
		{ proc_env.pe_home, SANDBOX_READ | SANDBOX_WRITE },
		{ "/usr", SANDBOX_READ | SANDBOX_EXEC },
		{ "/lib", SANDBOX_READ | SANDBOX_EXEC },
		{ "/lib64", SANDBOX_READ | SANDBOX_EXEC },
		{ "/etc", SANDBOX_READ },
		{ "/dev", SANDBOX_READ | SANDBOX_WRITE },
		{ "/proc", SANDBOX_READ },
		{ "/sys", SANDBOX_READ },
	};
	struct sandbox		 sb = {
		.sb_name = "castra-vmm",
		.sb_chroot = NULL,	/* it execs QEMU */
		.sb_paths = paths,
		.sb_npaths = sizeof(paths) / sizeof(paths[0]),
		.sb_syscalls = vmm_syscalls,
		.sb_nsyscalls = sizeof(vmm_syscalls) / sizeof(vmm_syscalls[0]),
		/*
		 * QEMU's user networking binds the host forwards and
		 * connects the guest's dials to 127.0.0.1; a QEMU that an
		 * earlier castra-vmm started and this one adopted lies
		 * outside its Landlock domain, and must still be stopped.
		 */
		.sb_allow = SANDBOX_TCP_BIND | SANDBOX_TCP_CONNECT |
		    SANDBOX_SIGNAL,
	};

	sandbox_enter(&sb);
}

int
main(int argc, char *argv[])
{
	char		 reason[128];
	const char	*accel;

	proc_child_init(argc, argv, "castra-vmm");
	event_init();
	signal(SIGPIPE, SIG_IGN);

	/* Before confinement: the probe opens /dev/kvm as QEMU would. */
	accel = accel_probe(reason, sizeof(reason));
	strlcpy(vmm_accel, accel, sizeof(vmm_accel));
	log_info("accelerator %s: %s", accel, reason);
	if (accel_write(proc_env.pe_home, accel, reason) == -1)
		log_warn("%s/accel.json", proc_env.pe_home);

	vmm_sandbox();
	proc_child_listen(vmm_dispatch);
	event_dispatch();
	return (0);
}
