/*
 * Fuzz what reaches castra-imgd from castrad: fetch requests (with or
 * without a descriptor), its settings, holds, releases and removals,
 * each read with the lib/proto.c reader that imgd_dispatch() calls.
 * Two more kinds follow a client's message the whole way: castrad
 * reads a castra image pull or rm with its own reader and builds the
 * request for imgd from it as castrad/images.c does, and imgd must take
 * that request, since it treats a refused message as a broken castrad
 * and exits.
 *
 * Input, as fuzz_kind_open() reads it: byte 0 picks the kind (bits
 * 0-2), passes a descriptor with the message (bit 6) and sends the
 * payload at its own size rather than that of the kind's struct, cut
 * or padded with zeros (bit 7).  No descriptor may be left open at the
 * end.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "proto.h"
#include "fuzz.h"

static const struct fuzz_kind fuzz_kinds[] = {
	{ IMSG_IMG_FETCH_REQUEST,	sizeof(struct img_request) },
	{ IMSG_IMG_CONFIG,		sizeof(struct img_config) },
	{ IMSG_IMG_HOLD,		sizeof(struct img_hold) },
	{ IMSG_IMG_RELEASE,		sizeof(struct img_hold) },
	{ IMSG_IMG_REMOVE_REQUEST,	sizeof(struct img_remove) },
	{ IMSG_CTL_IMAGE_PULL,		sizeof(struct ctl_image) },
	{ IMSG_CTL_IMAGE_REMOVE,	sizeof(struct ctl_image_remove) }
};
#define FUZZ_NKINDS	(sizeof(fuzz_kinds) / sizeof(fuzz_kinds[0]))

/* len lower-case hex digits, or nothing if that is allowed. */
static int
fuzz_digest(const char *s, size_t len, int optional)
{
	if (memchr(s, '\0', len + 1) == NULL)
		return (0);
	if (optional && s[0] == '\0')
		return (1);
	return (strlen(s) == len && strspn(s, "0123456789abcdef") == len);
}

static void
fuzz_check_request(const struct img_request *ir)
{
	const struct ctl_artifact	*ca = &ir->ir_artifact;
	uint32_t			 i;

	CHECK(ca->ca_nurls <= CONFIG_URLS_MAX);
	for (i = 0; i < CONFIG_URLS_MAX; i++)
		CHECK(ENDS(ca->ca_urls[i]));
	for (i = 0; i < ca->ca_nurls; i++)
		CHECK(strncmp(ca->ca_urls[i], "http://", 7) == 0 ||
		    strncmp(ca->ca_urls[i], "https://", 8) == 0);
	CHECK(fuzz_digest(ca->ca_sha256, SHA256_HEX_LEN, 1));
	CHECK(fuzz_digest(ca->ca_sha512, SHA512_HEX_LEN, 1));
}

/* imgd_dispatch(): the descriptor of a request is imgd's to close. */
static void
fuzz_imgd(struct imsg *imsg)
{
	struct img_request	 ir;
	struct img_config	 ic;
	struct img_hold		 ih;
	struct img_remove	 im;
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_IMG_FETCH_REQUEST:
		fd = imsg_get_fd(imsg);
		if (proto_read_img_request(imsg, &ir) == 0)
			fuzz_check_request(&ir);
		if (fd != -1)
			close(fd);
		break;
	case IMSG_IMG_CONFIG:
		if (proto_read_img_config(imsg, &ic) == 0)
			CHECK(ic.ic_connect_timeout <= IMG_TIMEOUT_MAX &&
			    ic.ic_stall_timeout <= IMG_TIMEOUT_MAX &&
			    ic.ic_retries <= IMG_RETRIES_MAX &&
			    ic.ic_backoff_ms <= IMG_BACKOFF_MAX_MS);
		break;
	case IMSG_IMG_HOLD:
	case IMSG_IMG_RELEASE:
		if (proto_read_img_hold(imsg, &ih) == 0)
			CHECK(fuzz_digest(ih.ih_sha256, SHA256_HEX_LEN, 0));
		break;
	case IMSG_IMG_REMOVE_REQUEST:
		if (proto_read_img_remove(imsg, &im) == 0)
			CHECK(fuzz_digest(im.im_sha256, SHA256_HEX_LEN, 1));
		break;
	}
}

/* What castrad sends imgd for a pull it took: images_send(). */
static void
fuzz_relay_pull(struct fuzz_chan *fc, struct imsg *imsg)
{
	struct ctl_image	 ci;
	struct img_request	 ir, got;
	struct imsg		 fwd;

	if (proto_read_image(imsg, &ci) == -1)
		return;
	memset(&ir, 0, sizeof(ir));
	ir.ir_id = 1;
	ir.ir_artifact = ci.ci_artifact;
	fuzz_chan_pass(fc, IMSG_IMG_FETCH_REQUEST, -1, &ir, sizeof(ir), &fwd);
	CHECK(proto_read_img_request(&fwd, &got) == 0);
	fuzz_check_request(&got);
	imsg_free(&fwd);
}

/* What castrad sends imgd for a castra image rm or prune. */
static void
fuzz_relay_remove(struct fuzz_chan *fc, struct imsg *imsg)
{
	struct ctl_image_remove	 cx;
	struct img_remove	 im, got;
	struct imsg		 fwd;

	if (proto_read_image_remove(imsg, &cx) == -1)
		return;
	CHECK(fuzz_digest(cx.cx_sha256, SHA256_HEX_LEN, 1));
	memset(&im, 0, sizeof(im));
	im.im_id = 1;
	strlcpy(im.im_sha256, cx.cx_sha256, sizeof(im.im_sha256));
	im.im_age = cx.cx_age;
	im.im_size = cx.cx_size;
	fuzz_chan_pass(fc, IMSG_IMG_REMOVE_REQUEST, -1, &im, sizeof(im), &fwd);
	CHECK(proto_read_img_remove(&fwd, &got) == 0);
	imsg_free(&fwd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_kind	*fk;
	struct fuzz_chan	 fc;
	struct imsg		 imsg;

	if ((fk = fuzz_kind_open(&fc, &imsg, fuzz_kinds, FUZZ_NKINDS, data,
	    size)) == NULL)
		return (0);
	if (fk->fk_type == IMSG_CTL_IMAGE_PULL)
		fuzz_relay_pull(&fc, &imsg);
	else if (fk->fk_type == IMSG_CTL_IMAGE_REMOVE)
		fuzz_relay_remove(&fc, &imsg);
	else
		fuzz_imgd(&imsg);
	fuzz_kind_close(&fc, &imsg);
	return (0);
}
