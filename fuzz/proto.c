/*
 * Fuzz the payload readers of lib/proto.c.  The input is one message:
 * byte 0 picks its type and the rest is its payload, sent through a
 * real socketpair with imsg_compose() and taken with imsgbuf_get() as
 * castrad, castra and the children take theirs.  Every reader is run
 * on it, since a peer may send any payload under any type, and what a
 * reader accepts must hold what its callers rely on: every string
 * terminated inside its field, names valid, counts within their
 * arrays.  A reader that accepts less than that aborts.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imsg.h"
#include "proto.h"
#include "fuzz.h"

/* Each reader takes the payload from its start, past the header. */
#define READ(reader, imsg, out) \
	((imsg)->buf->rpos = IMSG_HEADER_SIZE, reader((imsg), (out)))

static int
fuzz_hex(const char *s, size_t len)
{
	size_t	 i;

	if (*s == '\0')
		return (1);
	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL ||
		    s[i] == '\0')
			return (0);
	return (s[len] == '\0');
}

static void
fuzz_project(struct imsg *imsg)
{
	struct ctl_project	 cp;

	if (READ(proto_read_project, imsg, &cp) == -1)
		return;
	CHECK(ENDS(cp.cp_id) && ENDS(cp.cp_name) && ENDS(cp.cp_config));
	CHECK(cp.cp_id[0] != '\0' && strspn(cp.cp_id,
	    "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(cp.cp_id));
	CHECK(strlen(cp.cp_id) <= PROJECT_ID_LEN);
	CHECK(proto_name_valid(cp.cp_name));
	CHECK(strlen(cp.cp_token) == TOKEN_HEX_LEN &&
	    fuzz_hex(cp.cp_token, TOKEN_HEX_LEN));
	CHECK(cp.cp_broker_port != 0);
	CHECK(cp.cp_wait_graceful <= CONFIG_WAIT_MAX &&
	    cp.cp_wait_sigterm <= CONFIG_WAIT_MAX &&
	    cp.cp_wait_sigkill <= CONFIG_WAIT_MAX);
}

static void
fuzz_image(struct imsg *imsg)
{
	struct ctl_image	 ci;
	uint32_t		 i;

	if (READ(proto_read_image, imsg, &ci) == -1)
		return;
	CHECK(proto_name_valid(ci.ci_name));
	CHECK(ci.ci_role <= CTL_IMAGE_INITRD);
	CHECK(ci.ci_artifact.ca_nurls <= CONFIG_URLS_MAX);
	for (i = 0; i < CONFIG_URLS_MAX; i++)
		CHECK(ENDS(ci.ci_artifact.ca_urls[i]));
	for (i = 0; i < ci.ci_artifact.ca_nurls; i++)
		CHECK(strncmp(ci.ci_artifact.ca_urls[i], "http://", 7) == 0 ||
		    strncmp(ci.ci_artifact.ca_urls[i], "https://", 8) == 0);
	CHECK(fuzz_hex(ci.ci_artifact.ca_sha256, SHA256_HEX_LEN));
	CHECK(fuzz_hex(ci.ci_artifact.ca_sha512, SHA512_HEX_LEN));
}

static void
fuzz_vm(struct imsg *imsg)
{
	struct ctl_vm		 cv;
	struct in_addr		 addr;
	uint32_t		 i;

	if (READ(proto_read_vm, imsg, &cv) == -1)
		return;
	CHECK(proto_name_valid(cv.cv_name) && proto_name_valid(cv.cv_image));
	CHECK(strcmp(cv.cv_name, CONFIG_RESERVED_VM) != 0);
	CHECK(ENDS(cv.cv_cmdline));
	CHECK(cv.cv_cpus >= 1 && cv.cv_cpus <= CONFIG_CPUS_MAX);
	CHECK(cv.cv_memory_mib >= CONFIG_MEMORY_MIN_MIB &&
	    cv.cv_memory_mib <= CONFIG_MEMORY_MAX_MIB);
	CHECK(cv.cv_nforwards <= CONFIG_FORWARDS_MAX);
	CHECK(cv.cv_ndepends <= CONFIG_DEPENDS_MAX);
	for (i = 0; i < cv.cv_nforwards; i++) {
		CHECK(ENDS(cv.cv_forwards[i].cf_bind));
		CHECK(inet_pton(AF_INET, cv.cv_forwards[i].cf_bind,
		    &addr) == 1);
		CHECK(cv.cv_forwards[i].cf_proto <= FORWARD_UDP);
		CHECK(cv.cv_forwards[i].cf_host != 0 &&
		    cv.cv_forwards[i].cf_guest != 0);
	}
	for (i = 0; i < cv.cv_ndepends; i++)
		CHECK(proto_name_valid(cv.cv_depends[i]));
}

static void
fuzz_others(struct imsg *imsg)
{
	struct ctl_hello	 ch;
	struct ctl_request	 rq;
	struct ctl_event	 ce;
	struct ctl_result	 cr;
	struct broker_vm	 bv;
	struct vmm_vm		 vv;
	struct vmm_stop_event	 se;
	struct vmm_fail		 vf;

	if (READ(proto_read_hello, imsg, &ch) == 0)
		CHECK(ENDS(ch.ch_software));
	if (READ(proto_read_request, imsg, &rq) == 0)
		CHECK(ENDS(rq.cr_project) &&
		    rq.cr_wait_graceful <= CONFIG_WAIT_MAX &&
		    rq.cr_wait_sigterm <= CONFIG_WAIT_MAX &&
		    rq.cr_wait_sigkill <= CONFIG_WAIT_MAX);
	if (READ(proto_read_event, imsg, &ce) == 0)
		CHECK(ENDS(ce.ce_vm) && ENDS(ce.ce_text));
	if (READ(proto_read_result, imsg, &cr) == 0)
		CHECK(ENDS(cr.cr_message));
	if (READ(proto_read_broker_vm, imsg, &bv) == 0)
		CHECK(ENDS(bv.bv_project) && ENDS(bv.bv_name) &&
		    ENDS(bv.bv_token));
	if (READ(proto_read_vmm_vm, imsg, &vv) == 0)
		CHECK(ENDS(vv.vv_project) && ENDS(vv.vv_name) &&
		    ENDS(vv.vv_accel));
	if (READ(proto_read_vmm_stop_event, imsg, &se) == 0)
		CHECK(ENDS(se.se_project) && ENDS(se.se_name) &&
		    ENDS(se.se_text));
	if (READ(proto_read_vmm_fail, imsg, &vf) == 0)
		CHECK(ENDS(vf.vf_project) && ENDS(vf.vf_name) &&
		    ENDS(vf.vf_message));
}

/*
 * Unless byte 1 has its top bit set, the payload is cut or padded to
 * the size of the struct that byte 1 picks (fuzz_payload()).
 */
static const size_t fuzz_sizes[] = {
	sizeof(struct ctl_hello), sizeof(struct ctl_project),
	sizeof(struct ctl_image), sizeof(struct ctl_vm),
	sizeof(struct ctl_request), sizeof(struct ctl_event),
	sizeof(struct ctl_result), sizeof(struct broker_vm),
	sizeof(struct vmm_vm), sizeof(struct vmm_stop_event),
	sizeof(struct vmm_fail)
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_chan	 fc;
	struct imsg		 imsg;
	const void		*payload;
	size_t			 want;
	uint32_t		 type;

	if (size < 2)
		return (0);
	type = data[0] % IMSG_MAX;
	want = data[1] & 0x80 ? size - 2 :
	    fuzz_sizes[data[1] % (sizeof(fuzz_sizes) / sizeof(fuzz_sizes[0]))];
	if ((payload = fuzz_payload(data + 2, size - 2, want)) == NULL)
		return (0);

	fuzz_chan_open(&fc, 0);
	fuzz_chan_pass(&fc, type, -1, payload, want, &imsg);

	fuzz_project(&imsg);
	fuzz_image(&imsg);
	fuzz_vm(&imsg);
	fuzz_others(&imsg);

	imsg_free(&imsg);
	fuzz_chan_close(&fc);
	return (0);
}
