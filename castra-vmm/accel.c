/*
 * The accelerator probe.  An openable /dev/kvm proves nothing: on nested
 * hosts QEMU under KVM aborts, or crawls and dies on the first locked
 * 16-byte compare-exchange.  So three tiny guests run straight through
 * the KVM API, in a child that can be killed if the host hangs it:
 * real mode out+hlt, a long-mode lock cmpxchg16b, and a ten-million
 * iteration loop that real hardware finishes in milliseconds.  All three
 * passing means KVM; anything else means TCG.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/kvm.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "vmm.h"

#define ACCEL_MEM_SIZE		(2 * 1024 * 1024)
#define ACCEL_CODE		0x1000
#define ACCEL_PML4		0x2000
#define ACCEL_PDPT		0x3000
#define ACCEL_PD		0x4000
#define ACCEL_DATA		0x5000
#define ACCEL_CHILD_DEADLINE_MS	2000

/* mov al,0x42; out 0x10,al; hlt */
static const uint8_t accel_code_real[] = {
	0xb0, 0x42, 0xe6, 0x10, 0xf4
};

/* mov rdi,DATA; xor eax,eax; xor edx,edx; mov ebx,1; xor ecx,ecx;
 * lock cmpxchg16b [rdi]; hlt */
static const uint8_t accel_code_cx16[] = {
	0x48, 0xc7, 0xc7, 0x00, 0x50, 0x00, 0x00,
	0x31, 0xc0, 0x31, 0xd2, 0xbb, 0x01, 0x00, 0x00, 0x00, 0x31, 0xc9,
	0xf0, 0x48, 0x0f, 0xc7, 0x0f, 0xf4
};

/* mov ecx,10000000; 1: dec ecx; jnz 1b; hlt */
static const uint8_t accel_code_loop[] = {
	0xb9, 0x80, 0x96, 0x98, 0x00, 0xff, 0xc9, 0x75, 0xfc, 0xf4
};

struct accel_guest {
	int		 ag_vm;
	int		 ag_vcpu;
	uint8_t		*ag_mem;
	struct kvm_run	*ag_run;
};

static int	accel_guest_open(int, struct accel_guest *);
static int	accel_long_mode(struct accel_guest *);
static int	accel_run(struct accel_guest *, const uint8_t *, size_t, int);
static int	accel_child(void);
static void	accel_drop(void);

static int64_t
accel_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
accel_guest_open(int kvm, struct accel_guest *ag)
{
	struct kvm_userspace_memory_region	 region;
	int					 runsz;

	memset(ag, 0, sizeof(*ag));
	if ((ag->ag_vm = ioctl(kvm, KVM_CREATE_VM, 0)) == -1)
		return (-1);
	ag->ag_mem = mmap(NULL, ACCEL_MEM_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ag->ag_mem == MAP_FAILED)
		return (-1);
	memset(&region, 0, sizeof(region));
	region.memory_size = ACCEL_MEM_SIZE;
	region.userspace_addr = (uintptr_t)ag->ag_mem;
	if (ioctl(ag->ag_vm, KVM_SET_USER_MEMORY_REGION, &region) == -1)
		return (-1);
	if ((ag->ag_vcpu = ioctl(ag->ag_vm, KVM_CREATE_VCPU, 0)) == -1)
		return (-1);
	if ((runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		return (-1);
	ag->ag_run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED,
	    ag->ag_vcpu, 0);
	if (ag->ag_run == MAP_FAILED)
		return (-1);
	return (0);
}

/* Identity-map the first 2 MiB with one large page and enter 64-bit mode. */
static int
accel_long_mode(struct accel_guest *ag)
{
	struct kvm_sregs	 sregs;
	struct kvm_segment	 seg;
	uint64_t		*pml4, *pdpt, *pd;

	pml4 = (uint64_t *)(ag->ag_mem + ACCEL_PML4);
	pdpt = (uint64_t *)(ag->ag_mem + ACCEL_PDPT);
	pd = (uint64_t *)(ag->ag_mem + ACCEL_PD);
	pml4[0] = ACCEL_PDPT | 0x3;
	pdpt[0] = ACCEL_PD | 0x3;
	pd[0] = 0x83;				/* present, writable, 2 MiB */

	if (ioctl(ag->ag_vcpu, KVM_GET_SREGS, &sregs) == -1)
		return (-1);
	sregs.cr3 = ACCEL_PML4;
	sregs.cr4 = 1 << 5;			/* PAE */
	sregs.cr0 = 0x80050033;			/* PE MP ET NE WP PG */
	sregs.efer = 0x500;			/* LME LMA */

	memset(&seg, 0, sizeof(seg));
	seg.limit = 0xffffffff;
	seg.present = 1;
	seg.s = 1;
	seg.g = 1;
	seg.selector = 8;
	seg.type = 11;				/* code: execute, read */
	seg.l = 1;
	sregs.cs = seg;
	seg.selector = 16;
	seg.type = 3;				/* data: read, write */
	seg.l = 0;
	seg.db = 1;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	return (ioctl(ag->ag_vcpu, KVM_SET_SREGS, &sregs));
}

/* Run code at ACCEL_CODE until hlt; -1 on any other exit. */
static int
accel_run(struct accel_guest *ag, const uint8_t *code, size_t len,
    int real)
{
	struct kvm_sregs	 sregs;
	struct kvm_regs		 regs;
	int			 ios = 0;

	memcpy(ag->ag_mem + ACCEL_CODE, code, len);
	if (real) {
		if (ioctl(ag->ag_vcpu, KVM_GET_SREGS, &sregs) == -1)
			return (-1);
		sregs.cs.base = 0;
		sregs.cs.selector = 0;
		if (ioctl(ag->ag_vcpu, KVM_SET_SREGS, &sregs) == -1)
			return (-1);
	} else if (accel_long_mode(ag) == -1)
		return (-1);
	memset(&regs, 0, sizeof(regs));
	regs.rip = ACCEL_CODE;
	regs.rflags = 2;
	if (ioctl(ag->ag_vcpu, KVM_SET_REGS, &regs) == -1)
		return (-1);

	for (;;) {
		if (ioctl(ag->ag_vcpu, KVM_RUN, 0) == -1)
			return (-1);
		switch (ag->ag_run->exit_reason) {
		case KVM_EXIT_HLT:
			return (real && ios != 1 ? -1 : 0);
		case KVM_EXIT_IO:
			if (!real || ag->ag_run->io.port != 0x10)
				return (-1);
			ios++;
			break;
		default:
			return (-1);
		}
	}
}

/* In the probe child: 0 when all three guests ran straight through. */
static int
accel_child(void)
{
	struct accel_guest	 ag;
	int64_t			 start;
	int			 kvm;

	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) == -1)
		return (1);
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return (2);

	if (accel_guest_open(kvm, &ag) == -1 ||
	    accel_run(&ag, accel_code_real, sizeof(accel_code_real), 1) == -1)
		return (3);

	if (accel_guest_open(kvm, &ag) == -1 ||
	    accel_run(&ag, accel_code_cx16, sizeof(accel_code_cx16), 0) ==
	    -1 || ag.ag_mem[ACCEL_DATA] != 1)
		return (4);

	if (accel_guest_open(kvm, &ag) == -1)
		return (5);
	start = accel_mono_ms();
	if (accel_run(&ag, accel_code_loop, sizeof(accel_code_loop), 0) == -1)
		return (5);
	if (accel_mono_ms() - start > ACCEL_PROBE_DEADLINE_MS)
		return (6);
	return (0);
}

/*
 * Probe with the rights QEMU will have: as root, QEMU runs as the
 * unprivileged user with the groups the group database gives it (see
 * sandbox_drop), so /dev/kvm must open for that user and those groups.
 */
static void
accel_drop(void)
{
	struct passwd	*pw;

	if (geteuid() != 0 || (pw = getpwnam(SANDBOX_USER)) == NULL)
		return;
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		_exit(7);
}

static const char *const accel_reasons[] = {
	"all three probe guests ran",
	"/dev/kvm does not open",
	"KVM API version mismatch",
	"a real-mode guest did not run",
	"lock cmpxchg16b failed in a long-mode guest",
	"a long-mode guest did not run",
	"a 10-million-iteration loop took over 250 ms",
	"could not drop to the unprivileged user"
};

/*
 * Returns "kvm" or "tcg" and says why in reason.  Never blocks for
 * longer than ACCEL_CHILD_DEADLINE_MS, whatever KVM does.
 */
const char *
accel_probe(char *reason, size_t len)
{
	struct pollfd	 pfd;
	pid_t		 pid;
	int		 p[2], status, n;
	uint8_t		 rc = 0xff;

	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(reason, len, "pipe: %s", strerror(errno));
		return ("tcg");
	}
	switch (pid = fork()) {
	case -1:
		snprintf(reason, len, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return ("tcg");
	case 0:
		close(p[0]);
		accel_drop();
		rc = accel_child();
		(void)write(p[1], &rc, 1);
		_exit(0);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	n = poll(&pfd, 1, ACCEL_CHILD_DEADLINE_MS);
	if (n == 1 && read(p[0], &rc, 1) != 1)
		rc = 0xff;
	close(p[0]);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;

	if (rc < sizeof(accel_reasons) / sizeof(accel_reasons[0]))
		snprintf(reason, len, "%s", accel_reasons[rc]);
	else
		snprintf(reason, len, "the probe did not finish in %d ms",
		    ACCEL_CHILD_DEADLINE_MS);
	return (rc == 0 ? "kvm" : "tcg");
}

/* Leave the verdict where castrad and castra status can read it. */
int
accel_write(const char *home, const char *accel, const char *reason)
{
	char	 path[1024], tmp[1040];
	FILE	*fp;
	int	 fd;

	if (snprintf(path, sizeof(path), "%s/accel.json", home) >=
	    (int)sizeof(path))
		return (-1);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return (-1);
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		return (-1);
	}
	/* The reasons are fixed strings without quotes or backslashes. */
	fprintf(fp, "{\"accel\":\"%s\",\"reason\":\"%s\"}\n", accel, reason);
	if (fflush(fp) == EOF || fsync(fd) == -1) {
		fclose(fp);
		unlink(tmp);
		return (-1);
	}
	fclose(fp);
	return (rename(tmp, path));
}
