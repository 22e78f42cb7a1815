/*
 * Fuzz castra-vmm's readers of castrad's requests.  The first byte
 * picks the reader; the rest is the payload, at whatever size it came.
 * A request that is accepted must come out with every string
 * terminated within its field.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "vmm.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_start	 vs;
	struct vmm_stop		 st;
	struct vmm_vm		 vv;
	uint32_t		 i;

	if (size < 1)
		return (0);
	switch (data[0] % 3) {
	case 0:
		if (vmm_read_start(data + 1, size - 1, &vs) == -1)
			break;
		CHECK(ENDS(vs.vs_name) && ENDS(vs.vs_cmdline));
		CHECK(vs.vs_nforwards <= CONFIG_FORWARDS_MAX);
		for (i = 0; i < vs.vs_nforwards; i++)
			CHECK(strchr(vs.vs_forwards[i].cf_bind, ',') == NULL);
		break;
	case 1:
		if (vmm_read_stop(data + 1, size - 1, &st) == 0)
			CHECK(ENDS(st.vs_name));
		break;
	case 2:
		if (vmm_read_vm(data + 1, size - 1, &vv) == 0)
			CHECK(ENDS(vv.vv_name));
		break;
	}
	return (0);
}
