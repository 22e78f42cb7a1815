/*
 * castra-vmm's readers of castrad's requests.  Each takes the payload
 * at its exact size, terminates every string and checks every field
 * that a later step relies on: names become paths, numbers become QEMU
 * options, forwards become parts of a comma-separated option string.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "vmm.h"

static int
vmm_hex_valid(const char *s, size_t want, int optional)
{
	size_t	 i;

	if (*s == '\0')
		return (optional);
	for (i = 0; s[i] != '\0'; i++)
		if (!isxdigit((unsigned char)s[i]))
			return (0);
	return (i == want);
}

static int
vmm_forward_valid(const struct ctl_forward *f)
{
	struct in_addr	 in;

	if (f->cf_proto != FORWARD_TCP && f->cf_proto != FORWARD_UDP)
		return (0);
	if (f->cf_host == 0 || f->cf_guest == 0)
		return (0);
	/* An address literal holds no comma for QEMU's option parser. */
	return (f->cf_bind[0] == '\0' ||
	    inet_pton(AF_INET, f->cf_bind, &in) == 1);
}

#define TERMINATE(s)	((s)[sizeof(s) - 1] = '\0')

/* The start request, checked at the door: exact size, every field. */
int
vmm_read_start(const void *data, size_t len, struct vmm_start *vs)
{
	uint32_t	 i;

	if (len != sizeof(*vs))
		goto bad;
	memcpy(vs, data, sizeof(*vs));
	TERMINATE(vs->vs_project);
	TERMINATE(vs->vs_name);
	TERMINATE(vs->vs_token);
	TERMINATE(vs->vs_disk);
	TERMINATE(vs->vs_kernel);
	TERMINATE(vs->vs_initrd);
	TERMINATE(vs->vs_cmdline);
	if (!proto_name_valid(vs->vs_project) ||
	    !proto_name_valid(vs->vs_name))
		goto bad;
	if (!vmm_hex_valid(vs->vs_token, TOKEN_HEX_LEN, 1) ||
	    !vmm_hex_valid(vs->vs_disk, SHA256_HEX_LEN, 0) ||
	    !vmm_hex_valid(vs->vs_kernel, SHA256_HEX_LEN, 1) ||
	    !vmm_hex_valid(vs->vs_initrd, SHA256_HEX_LEN, 1))
		goto bad;
	if (vs->vs_kernel[0] == '\0' &&
	    (vs->vs_initrd[0] != '\0' || vs->vs_cmdline[0] != '\0'))
		goto bad;
	if (vs->vs_cpus < 1 || vs->vs_cpus > 64 ||
	    vs->vs_memory_mib < 16 || vs->vs_memory_mib > 1024 * 1024 ||
	    vs->vs_broker_port == 0 ||
	    vs->vs_nforwards > CONFIG_FORWARDS_MAX)
		goto bad;
	for (i = 0; i < vs->vs_nforwards; i++) {
		TERMINATE(vs->vs_forwards[i].cf_bind);
		if (!vmm_forward_valid(&vs->vs_forwards[i]))
			goto bad;
	}
	return (0);
 bad:
	errno = EBADMSG;
	return (-1);
}

int
vmm_read_stop(const void *data, size_t len, struct vmm_stop *vs)
{
	if (len != sizeof(*vs))
		goto bad;
	memcpy(vs, data, sizeof(*vs));
	TERMINATE(vs->vs_project);
	TERMINATE(vs->vs_name);
	if (!proto_name_valid(vs->vs_project) ||
	    !proto_name_valid(vs->vs_name))
		goto bad;
	/* A day is longer than any sane wait; it keeps the sums small. */
	if (vs->vs_wait_graceful > 86400 || vs->vs_wait_sigterm > 86400 ||
	    vs->vs_wait_sigkill > 86400)
		goto bad;
	return (0);
 bad:
	errno = EBADMSG;
	return (-1);
}

int
vmm_read_bootstrap(const void *data, size_t len, struct vmm_bootstrap *vb)
{
	if (len != sizeof(*vb))
		goto bad;
	memcpy(vb, data, sizeof(*vb));
	TERMINATE(vb->vb_project);
	TERMINATE(vb->vb_name);
	if (!proto_name_valid(vb->vb_project) ||
	    !proto_name_valid(vb->vb_name))
		goto bad;
	return (0);
 bad:
	errno = EBADMSG;
	return (-1);
}

int
vmm_read_vm(const void *data, size_t len, struct vmm_vm *vv)
{
	if (len != sizeof(*vv))
		goto bad;
	memcpy(vv, data, sizeof(*vv));
	TERMINATE(vv->vv_project);
	TERMINATE(vv->vv_name);
	TERMINATE(vv->vv_accel);
	if (!proto_name_valid(vv->vv_project) ||
	    !proto_name_valid(vv->vv_name))
		goto bad;
	return (0);
 bad:
	errno = EBADMSG;
	return (-1);
}

