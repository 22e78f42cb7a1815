/*
 * Readers of the payloads of lib/proto.h.  Each one takes the message at
 * its exact size, terminates every string and checks what the receiver
 * relies on.  They return 0, or -1 with errno set when the message must
 * be refused.
 */

#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "imsg.h"
#include "proto.h"

/*
 * Text shown to a person is cut at its end; a name, an id, a token or
 * an address that fills its field has no end and is refused, since a
 * shortened name is another name.
 */
#define TERMINATE(s)	((s)[sizeof(s) - 1] = '\0')
#define TERMINATED(s)	(memchr((s), '\0', sizeof(s)) != NULL)

static int
refuse(void)
{
	errno = EBADMSG;
	return (-1);
}

/* Names of projects, images and VMs: [A-Za-z0-9][A-Za-z0-9_.-]*. */
int
proto_name_valid(const char *name)
{
	const char	*p;

	if (!isalnum((unsigned char)name[0]))
		return (0);
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			return (0);
	return (p - name < VM_NAME_MAX);
}

static int
hex_valid(const char *s, size_t len)
{
	size_t	 i;

	if (*s == '\0')
		return (1);
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return (0);
	return (s[len] == '\0');
}

int
proto_read_hello(struct imsg *imsg, struct ctl_hello *ch)
{
	if (imsg_get_data(imsg, ch, sizeof(*ch)) == -1)
		return (-1);
	TERMINATE(ch->ch_software);
	return (0);
}

int
proto_read_project(struct imsg *imsg, struct ctl_project *cp)
{
	const char	*p;

	if (imsg_get_data(imsg, cp, sizeof(*cp)) == -1)
		return (-1);
	TERMINATE(cp->cp_config);
	if (!TERMINATED(cp->cp_id) || !TERMINATED(cp->cp_name) ||
	    !TERMINATED(cp->cp_token))
		return (refuse());
	/* The id names a directory: lower case, digits and dashes. */
	if (cp->cp_id[0] == '\0')
		return (refuse());
	for (p = cp->cp_id; *p != '\0'; p++)
		if (!islower((unsigned char)*p) &&
		    !isdigit((unsigned char)*p) && *p != '-')
			return (refuse());
	if (!proto_name_valid(cp->cp_name) ||
	    strlen(cp->cp_token) != TOKEN_HEX_LEN ||
	    !hex_valid(cp->cp_token, TOKEN_HEX_LEN) ||
	    cp->cp_broker_port == 0 ||
	    cp->cp_wait_graceful > 3600 || cp->cp_wait_sigterm > 3600 ||
	    cp->cp_wait_sigkill > 3600)
		return (refuse());
	return (0);
}

static int
artifact_valid(struct ctl_artifact *ca)
{
	uint32_t	 i;

	if (ca->ca_nurls > CONFIG_URLS_MAX)
		return (0);
	for (i = 0; i < CONFIG_URLS_MAX; i++)
		if (!TERMINATED(ca->ca_urls[i]))
			return (0);
	for (i = 0; i < ca->ca_nurls; i++)
		if (strncmp(ca->ca_urls[i], "http://", 7) != 0 &&
		    strncmp(ca->ca_urls[i], "https://", 8) != 0)
			return (0);
	if (!TERMINATED(ca->ca_sha256) || !TERMINATED(ca->ca_sha512))
		return (0);
	return (hex_valid(ca->ca_sha256, SHA256_HEX_LEN) &&
	    hex_valid(ca->ca_sha512, SHA512_HEX_LEN));
}

int
proto_read_image(struct imsg *imsg, struct ctl_image *ci)
{
	if (imsg_get_data(imsg, ci, sizeof(*ci)) == -1)
		return (-1);
	if (!TERMINATED(ci->ci_name) || !proto_name_valid(ci->ci_name) ||
	    ci->ci_role > CTL_IMAGE_INITRD ||
	    !artifact_valid(&ci->ci_artifact))
		return (refuse());
	return (0);
}

static int
forward_valid(struct ctl_forward *cf)
{
	struct in_addr	 addr;

	if (!TERMINATED(cf->cf_bind))
		return (0);
	return (cf->cf_proto <= FORWARD_UDP && cf->cf_host != 0 &&
	    cf->cf_guest != 0 && inet_pton(AF_INET, cf->cf_bind, &addr) == 1);
}

int
proto_read_vm(struct imsg *imsg, struct ctl_vm *cv)
{
	uint32_t	 i;

	if (imsg_get_data(imsg, cv, sizeof(*cv)) == -1)
		return (-1);
	if (!TERMINATED(cv->cv_name) || !TERMINATED(cv->cv_image) ||
	    !TERMINATED(cv->cv_cmdline))
		return (refuse());
	/* "host" is the broker's name for host sessions, never a VM's. */
	if (!proto_name_valid(cv->cv_name) ||
	    strcmp(cv->cv_name, CONFIG_RESERVED_VM) == 0 ||
	    !proto_name_valid(cv->cv_image) ||
	    cv->cv_cpus < 1 || cv->cv_cpus > 64 ||
	    cv->cv_memory_mib < 16 || cv->cv_memory_mib > 1024 * 1024 ||
	    cv->cv_nforwards > CONFIG_FORWARDS_MAX ||
	    cv->cv_ndepends > CONFIG_DEPENDS_MAX)
		return (refuse());
	for (i = 0; i < cv->cv_nforwards; i++)
		if (!forward_valid(&cv->cv_forwards[i]))
			return (refuse());
	for (i = 0; i < cv->cv_ndepends; i++) {
		if (!TERMINATED(cv->cv_depends[i]) ||
		    !proto_name_valid(cv->cv_depends[i]))
			return (refuse());
	}
	return (0);
}

int
proto_read_request(struct imsg *imsg, struct ctl_request *cr)
{
	if (imsg_get_data(imsg, cr, sizeof(*cr)) == -1)
		return (-1);
	if (!TERMINATED(cr->cr_project) ||
	    cr->cr_wait_graceful > 3600 || cr->cr_wait_sigterm > 3600 ||
	    cr->cr_wait_sigkill > 3600)
		return (refuse());
	return (0);
}

int
proto_read_event(struct imsg *imsg, struct ctl_event *ce)
{
	if (imsg_get_data(imsg, ce, sizeof(*ce)) == -1)
		return (-1);
	TERMINATE(ce->ce_vm);
	TERMINATE(ce->ce_text);
	return (0);
}

int
proto_read_result(struct imsg *imsg, struct ctl_result *cr)
{
	if (imsg_get_data(imsg, cr, sizeof(*cr)) == -1)
		return (-1);
	TERMINATE(cr->cr_message);
	return (0);
}

int
proto_read_broker_project(struct imsg *imsg, struct broker_project *bp)
{
	if (imsg_get_data(imsg, bp, sizeof(*bp)) == -1)
		return (-1);
	if (!TERMINATED(bp->bp_id) || !TERMINATED(bp->bp_token))
		return (refuse());
	return (0);
}

int
proto_read_broker_vm(struct imsg *imsg, struct broker_vm *bv)
{
	if (imsg_get_data(imsg, bv, sizeof(*bv)) == -1)
		return (-1);
	if (!TERMINATED(bv->bv_project) || !TERMINATED(bv->bv_name) ||
	    !TERMINATED(bv->bv_token))
		return (refuse());
	return (0);
}

int
proto_read_vmm_vm(struct imsg *imsg, struct vmm_vm *vv)
{
	if (imsg_get_data(imsg, vv, sizeof(*vv)) == -1)
		return (-1);
	if (!TERMINATED(vv->vv_project) || !TERMINATED(vv->vv_name) ||
	    !TERMINATED(vv->vv_accel))
		return (refuse());
	return (0);
}

int
proto_read_vmm_stop_event(struct imsg *imsg, struct vmm_stop_event *se)
{
	if (imsg_get_data(imsg, se, sizeof(*se)) == -1)
		return (-1);
	TERMINATE(se->se_text);
	if (!TERMINATED(se->se_project) || !TERMINATED(se->se_name))
		return (refuse());
	return (0);
}

int
proto_read_vmm_fail(struct imsg *imsg, struct vmm_fail *vf)
{
	if (imsg_get_data(imsg, vf, sizeof(*vf)) == -1)
		return (-1);
	TERMINATE(vf->vf_message);
	if (!TERMINATED(vf->vf_project) || !TERMINATED(vf->vf_name))
		return (refuse());
	return (0);
}
