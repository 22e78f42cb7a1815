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

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_terminated(const char *s, size_t len)
{
	if (memchr(s, '\0', len) == NULL)
		__builtin_trap();
}

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
		fuzz_terminated(vs.vs_name, sizeof(vs.vs_name));
		fuzz_terminated(vs.vs_cmdline, sizeof(vs.vs_cmdline));
		if (vs.vs_nforwards > CONFIG_FORWARDS_MAX)
			__builtin_trap();
		for (i = 0; i < vs.vs_nforwards; i++)
			if (strchr(vs.vs_forwards[i].cf_bind, ',') != NULL)
				__builtin_trap();
		break;
	case 1:
		if (vmm_read_stop(data + 1, size - 1, &st) == 0)
			fuzz_terminated(st.vs_name, sizeof(st.vs_name));
		break;
	case 2:
		if (vmm_read_vm(data + 1, size - 1, &vv) == 0)
			fuzz_terminated(vv.vv_name, sizeof(vv.vv_name));
		break;
	}
	return (0);
}
