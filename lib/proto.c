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

#include "imgmeta.h"
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

/*
 * A project's id names a directory: lower case, digits and dashes, and
 * short enough for castrad to make a key of it (PROJECT_KEY_MAX).
 */
int
proto_id_valid(const char *id)
{
	const char	*p;

	for (p = id; *p != '\0'; p++)
		if (!islower((unsigned char)*p) &&
		    !isdigit((unsigned char)*p) && *p != '-')
			return (0);
	return (p != id && p - id <= PROJECT_ID_LEN);
}

static int
hex_valid(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return (0);
	return (s[len] == '\0');
}

/* A token: TOKEN_HEX_LEN hex digits, nothing after them. */
static int
token_valid(const char *token)
{
	return (hex_valid(token, TOKEN_HEX_LEN));
}

/*
 * A digest is spelt as the image cache names its files: len lower-case
 * hex digits (imgmeta_hex_valid).  castra(1) lowercases what a project
 * file says; any other spelling is a made-up message, and castrad must
 * not pass it on to castra-imgd, which would exit on it.  An empty one
 * is not known, or not asked for.
 */
static int
digest_optional(const char *s, size_t len)
{
	return (s[0] == '\0' || imgmeta_hex_valid(s, len));
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
	if (imsg_get_data(imsg, cp, sizeof(*cp)) == -1)
		return (-1);
	TERMINATE(cp->cp_config);
	if (!TERMINATED(cp->cp_id) || !TERMINATED(cp->cp_name) ||
	    !TERMINATED(cp->cp_token))
		return (refuse());
	if (!proto_id_valid(cp->cp_id) ||
	    !proto_name_valid(cp->cp_name) ||
	    !token_valid(cp->cp_token) ||
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
	return (digest_optional(ca->ca_sha256, SHA256_HEX_LEN) &&
	    digest_optional(ca->ca_sha512, SHA512_HEX_LEN));
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
	if (!proto_name_valid(bp->bp_id) || !token_valid(bp->bp_token))
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
	if (!proto_name_valid(bv->bv_project) ||
	    !proto_name_valid(bv->bv_name) ||
	    (bv->bv_token[0] != '\0' && !token_valid(bv->bv_token)))
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

/* castra image rm and prune: an empty digest asks for a prune. */
int
proto_read_image_remove(struct imsg *imsg, struct ctl_image_remove *cx)
{
	if (imsg_get_data(imsg, cx, sizeof(*cx)) == -1)
		return (-1);
	if (!digest_optional(cx->cx_sha256, SHA256_HEX_LEN))
		return (refuse());
	return (0);
}

/*
 * castrad to castra-imgd.  The artifact is the one castrad took from
 * castra with proto_read_image, so whatever that reader takes must
 * pass here too: imgd treats a refused message as a broken castrad.
 */
int
proto_read_img_request(struct imsg *imsg, struct img_request *ir)
{
	if (imsg_get_data(imsg, ir, sizeof(*ir)) == -1)
		return (-1);
	if (!artifact_valid(&ir->ir_artifact))
		return (refuse());
	return (0);
}

int
proto_read_img_config(struct imsg *imsg, struct img_config *ic)
{
	if (imsg_get_data(imsg, ic, sizeof(*ic)) == -1)
		return (-1);
	if (ic->ic_connect_timeout > IMG_TIMEOUT_MAX ||
	    ic->ic_stall_timeout > IMG_TIMEOUT_MAX ||
	    ic->ic_retries > IMG_RETRIES_MAX ||
	    ic->ic_backoff_ms > IMG_BACKOFF_MAX_MS)
		return (refuse());
	return (0);
}

int
proto_read_img_hold(struct imsg *imsg, struct img_hold *ih)
{
	if (imsg_get_data(imsg, ih, sizeof(*ih)) == -1)
		return (-1);
	if (!imgmeta_hex_valid(ih->ih_sha256, SHA256_HEX_LEN))
		return (refuse());
	return (0);
}

int
proto_read_img_remove(struct imsg *imsg, struct img_remove *im)
{
	if (imsg_get_data(imsg, im, sizeof(*im)) == -1)
		return (-1);
	if (!digest_optional(im->im_sha256, SHA256_HEX_LEN))
		return (refuse());
	return (0);
}

/* castra-imgd to castrad.  The url is shown to the user, never fetched. */
int
proto_read_img_progress(struct imsg *imsg, struct img_progress *ip)
{
	if (imsg_get_data(imsg, ip, sizeof(*ip)) == -1)
		return (-1);
	TERMINATE(ip->ip_url);
	return (0);
}

/* The digest names the file that castra-vmm gives QEMU. */
int
proto_read_img_ready(struct imsg *imsg, struct img_ready *ir)
{
	if (imsg_get_data(imsg, ir, sizeof(*ir)) == -1)
		return (-1);
	if (!imgmeta_hex_valid(ir->ir_sha256, SHA256_HEX_LEN))
		return (refuse());
	return (0);
}

int
proto_read_img_fail(struct imsg *imsg, struct img_fail *fl)
{
	if (imsg_get_data(imsg, fl, sizeof(*fl)) == -1)
		return (-1);
	TERMINATE(fl->if_message);
	return (0);
}

int
proto_read_img_removed(struct imsg *imsg, struct img_removed *rd)
{
	if (imsg_get_data(imsg, rd, sizeof(*rd)) == -1)
		return (-1);
	TERMINATE(rd->id_message);
	return (0);
}
