/*
 * vms/<vm>.json: what castra-vmm knows of a VM, for castra status and
 * for adopting the VM again after a restart.  It is rewritten whole,
 * through a temporary file renamed into place, so that a reader never
 * sees half of it; and it is read back as untrusted bytes.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "vmm.h"

#define RECORD_MAX	(256 * 1024)

static const char *const record_states[] = {
	"starting", "running", "stopping", "stopped", "error"
};

const char *
record_state_name(enum vm_state st)
{
	return (record_states[st]);
}

static json_t *
record_forwards(const struct vmm_guest *vm)
{
	const struct ctl_forward	*f;
	json_t				*a, *o;
	uint32_t			 i;

	if ((a = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < vm->vm_nforwards; i++) {
		f = &vm->vm_forwards[i];
		o = json_pack("{s:s, s:s, s:i, s:i}",
		    "proto", f->cf_proto == FORWARD_UDP ? "udp" : "tcp",
		    "bind", f->cf_bind[0] != '\0' ? f->cf_bind : "127.0.0.1",
		    "host", (int)f->cf_host, "guest", (int)f->cf_guest);
		if (o == NULL || json_array_append_new(a, o) == -1) {
			json_decref(a);
			return (NULL);
		}
	}
	return (a);
}

static json_t *
record_json(const struct vmm_guest *vm)
{
	json_t	*o, *argv;
	char	 overlay[VM_NAME_MAX + 32], qmp[VM_NAME_MAX + 16];
	int	 i;

	if ((argv = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < vm->vm_argc; i++)
		if (json_array_append_new(argv,
		    json_string(vm->vm_argv[i])) == -1) {
			json_decref(argv);
			return (NULL);
		}
	overlay_path(overlay, sizeof(overlay), vm->vm_name);
	snprintf(qmp, sizeof(qmp), "run/%s.qmp", vm->vm_name);
	o = json_pack("{s:s, s:i, s:I, s:o, s:s, s:s, s:s, s:i, s:i, s:o?,"
	    " s:s, s:I, s:I}",
	    "name", vm->vm_name,
	    "pid", (int)vm->vm_pid,
	    "start_time", (json_int_t)vm->vm_starttime,
	    "argv", argv,
	    "accel", vm->vm_accel,
	    "overlay", overlay,
	    "qmp", qmp,
	    "cpus", (int)vm->vm_cpus,
	    "memory_mib", (int)vm->vm_memory_mib,
	    "forwards", record_forwards(vm),
	    "state", record_state_name(vm->vm_state),
	    "up_at_ms", (json_int_t)vm->vm_up_at_ms,
	    "launched_at_ms", (json_int_t)vm->vm_launched_at_ms);
	if (o != NULL && vm->vm_handshake_at_ms != 0 &&
	    json_object_set_new(o, "first_handshake_at_ms",
	    json_integer(vm->vm_handshake_at_ms)) == -1) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

/*
 * Write vms/<vm>.json atomically through the state root descriptor: the
 * temporary file is made anew, so that no link put in its place is
 * written through, and the rename replaces a name, not what it names.
 */
int
record_write(struct vmm_guest *vm)
{
	char	 path[VM_NAME_MAX + 16], tmp[VM_NAME_MAX + 24];
	json_t	*o;
	char	*s = NULL;
	size_t	 len;
	int	 fd = -1;

	snprintf(path, sizeof(path), "vms/%s.json", vm->vm_name);
	snprintf(tmp, sizeof(tmp), "vms/.%s.json.tmp", vm->vm_name);
	if ((o = record_json(vm)) == NULL ||
	    (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	len = strlen(s);
	s[len++] = '\n';	/* json_dumps left room for the NUL */
	if ((fd = beneath_create(vm->vm_dirfd, tmp, O_WRONLY, 0644)) == -1)
		goto fail;
	if (write(fd, s, len) != (ssize_t)len || fsync(fd) == -1)
		goto fail;
	close(fd);
	fd = -1;
	if (beneath_rename(vm->vm_dirfd, tmp, path) == -1)
		goto fail;
	free(s);
	json_decref(o);
	return (0);

 fail:
	log_warn("%s: cannot write %s", vm->vm_name, path);
	if (fd != -1) {
		close(fd);
		beneath_unlink(vm->vm_dirfd, tmp);
	}
	free(s);
	json_decref(o);
	return (-1);
}

static int
record_parse_forwards(json_t *a, struct vmm_guest *vm)
{
	struct ctl_forward	*f;
	json_t			*o;
	const char		*proto, *bind;
	json_int_t		 host, guest;
	size_t			 i;

	if (!json_is_array(a) || json_array_size(a) > CONFIG_FORWARDS_MAX)
		return (-1);
	json_array_foreach(a, i, o) {
		if (json_unpack(o, "{s:s, s:s, s:I, s:I}", "proto", &proto,
		    "bind", &bind, "host", &host, "guest", &guest) == -1)
			return (-1);
		if (host < 1 || host > 65535 || guest < 1 || guest > 65535)
			return (-1);
		f = &vm->vm_forwards[i];
		f->cf_proto = strcmp(proto, "udp") == 0 ? FORWARD_UDP :
		    FORWARD_TCP;
		if (strlcpy(f->cf_bind, bind, sizeof(f->cf_bind)) >=
		    sizeof(f->cf_bind))
			return (-1);
		f->cf_host = host;
		f->cf_guest = guest;
	}
	vm->vm_nforwards = json_array_size(a);
	return (0);
}

static int
record_parse_argv(json_t *a, struct vmm_guest *vm)
{
	json_t		*s;
	size_t		 i;

	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) >= VMM_ARGV_MAX)
		return (-1);
	json_array_foreach(a, i, s) {
		if (!json_is_string(s) ||
		    strlen(json_string_value(s)) >= VMM_ARG_MAX ||
		    (vm->vm_argv[i] = strdup(json_string_value(s))) == NULL) {
			qemu_argv_free(vm);
			return (-1);
		}
		vm->vm_argc = i + 1;
		vm->vm_argv[i + 1] = NULL;
	}
	return (0);
}

/*
 * Fill vm from the bytes of a record.  Everything is checked: the name
 * must be the one asked for, the pid and numbers in range.
 */
int
record_parse(const char *buf, size_t len, struct vmm_guest *vm)
{
	json_t		*o, *argv, *fwd;
	json_error_t	 jerr;
	const char	*name, *accel, *state;
	json_int_t	 pid, st, cpus, mem, up = 0, launched = 0, hs = 0;
	int		 rc = -1;

	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return (-1);
	if (json_unpack(o, "{s:s, s:I, s:I, s:o, s:s, s:I, s:I, s:o, s:s,"
	    " s?I, s?I, s?I}", "name", &name, "pid", &pid, "start_time", &st,
	    "argv", &argv, "accel", &accel, "cpus", &cpus, "memory_mib", &mem,
	    "forwards", &fwd, "state", &state, "up_at_ms", &up,
	    "launched_at_ms", &launched, "first_handshake_at_ms", &hs) == -1)
		goto done;
	if (strcmp(name, vm->vm_name) != 0 || pid < 0 || pid > 0x3fffffff ||
	    st < 0 || cpus < 0 || cpus > 1024 || mem < 0 ||
	    mem > 16 * 1024 * 1024 || up < 0 || launched < 0 || hs < 0)
		goto done;
	if (strcmp(accel, "kvm") != 0 && strcmp(accel, "tcg") != 0)
		goto done;
	if (record_parse_forwards(fwd, vm) == -1 ||
	    record_parse_argv(argv, vm) == -1)
		goto done;
	vm->vm_pid = pid;
	vm->vm_starttime = st;
	strlcpy(vm->vm_accel, accel, sizeof(vm->vm_accel));
	vm->vm_cpus = cpus;
	vm->vm_memory_mib = mem;
	vm->vm_up_at_ms = up;
	vm->vm_launched_at_ms = launched;
	vm->vm_handshake_at_ms = hs;
	vm->vm_state = strcmp(state, "stopped") == 0 ? VM_ST_STOPPED :
	    VM_ST_RUNNING;
	rc = 0;
 done:
	json_decref(o);
	return (rc);
}

/* Read vms/<vm>.json; vm->vm_name says which. */
int
record_read(int dirfd, const char *name, struct vmm_guest *vm)
{
	struct stat	 st;
	char		 path[VM_NAME_MAX + 16], *buf = NULL;
	ssize_t		 n;
	int		 fd, rc = -1;

	snprintf(path, sizeof(path), "vms/%s.json", name);
	if ((fd = beneath_open(dirfd, path, O_RDONLY, 0)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1)
		goto done;
	if (!S_ISREG(st.st_mode) || st.st_size > RECORD_MAX) {
		errno = EFBIG;
		goto done;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL)
		goto done;
	if ((n = read(fd, buf, st.st_size)) == -1)
		goto done;
	if (record_parse(buf, n, vm) == -1) {
		errno = EINVAL;
		goto done;
	}
	rc = 0;
 done:
	free(buf);
	close(fd);
	return (rc);
}
