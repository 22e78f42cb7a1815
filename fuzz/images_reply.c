/*
 * Fuzz what castrad reads from castra-imgd: progress, an image ready,
 * a failure and the answer to a removal, each read with the lib/proto.c
 * reader that images_dispatch() calls.  A ready image's digest becomes
 * a path under the cache and a hold, so it must be one; every text
 * castrad passes on to a client must end inside its field.
 *
 * Input, as fuzz_kind_open() reads it: byte 0 picks the message (bits
 * 0-1), passes a descriptor with it (bit 6), which castrad never claims
 * and imsg_free() must close, and sends the payload at its own size
 * rather than that of the message's struct, cut or padded with zeros
 * (bit 7).  No descriptor may be left open at the end.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "imsg.h"
#include "proto.h"
#include "fuzz.h"

static const struct fuzz_kind fuzz_kinds[] = {
	{ IMSG_IMG_PROGRESS_EVENT,	sizeof(struct img_progress) },
	{ IMSG_IMG_READY_RESPONSE,	sizeof(struct img_ready) },
	{ IMSG_IMG_FAIL_RESPONSE,	sizeof(struct img_fail) },
	{ IMSG_IMG_REMOVE_RESPONSE,	sizeof(struct img_removed) }
};
#define FUZZ_NKINDS	(sizeof(fuzz_kinds) / sizeof(fuzz_kinds[0]))

/* images_dispatch(): one reader per type, the descriptor left alone. */
static void
fuzz_castrad(struct imsg *imsg)
{
	struct img_progress	 ip;
	struct img_ready	 ir;
	struct img_fail		 fl;
	struct img_removed	 rd;

	switch (imsg_get_type(imsg)) {
	case IMSG_IMG_PROGRESS_EVENT:
		if (proto_read_img_progress(imsg, &ip) == 0)
			CHECK(ENDS(ip.ip_url));
		break;
	case IMSG_IMG_READY_RESPONSE:
		if (proto_read_img_ready(imsg, &ir) == 0)
			CHECK(ENDS(ir.ir_sha256) &&
			    strlen(ir.ir_sha256) == SHA256_HEX_LEN &&
			    strspn(ir.ir_sha256, "0123456789abcdef") ==
			    SHA256_HEX_LEN);
		break;
	case IMSG_IMG_FAIL_RESPONSE:
		if (proto_read_img_fail(imsg, &fl) == 0)
			CHECK(ENDS(fl.if_message));
		break;
	case IMSG_IMG_REMOVE_RESPONSE:
		if (proto_read_img_removed(imsg, &rd) == 0)
			CHECK(ENDS(rd.id_message));
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_chan	 fc;
	struct imsg		 imsg;

	if (fuzz_kind_open(&fc, &imsg, fuzz_kinds, FUZZ_NKINDS, data,
	    size) == NULL)
		return (0);
	fuzz_castrad(&imsg);
	fuzz_kind_close(&fc, &imsg);
	return (0);
}
