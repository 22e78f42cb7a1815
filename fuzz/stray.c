/*
 * Fuzz castra-vmm's reading of a /proc/PID/cmdline when it looks for a
 * QEMU that its record no longer names: any process may write any
 * bytes into its own command line.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmm_guest	 vm;
	int			 rc, i;

	memset(&vm, 0, sizeof(vm));
	rc = stray_parse((const char *)data, size, "solo", &vm);
	if (rc == 1) {
		/* A match is QEMU's, names the VM and has a sane size. */
		if (vm.vm_argc < 3 || strcmp(vm.vm_argv[0], VMM_QEMU) != 0 ||
		    vm.vm_argv[vm.vm_argc] != NULL || vm.vm_cpus < 1 ||
		    vm.vm_cpus > 1024 || vm.vm_memory_mib < 1)
			abort();
		for (i = 0; i + 1 < vm.vm_argc; i++)
			if (strcmp(vm.vm_argv[i], "-name") == 0 &&
			    strcmp(vm.vm_argv[i + 1], "solo") == 0)
				break;
		if (i + 1 == vm.vm_argc)
			abort();
	}
	qemu_argv_free(&vm);
	return (0);
}
