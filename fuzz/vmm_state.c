/*
 * Fuzz what castra-vmm reads back from files and from QEMU: a VM record
 * (vms/<vm>.json, which it adopts VMs from), a /proc/PID/stat line
 * (whose command name the process itself chose) and a QMP line.  The
 * first byte picks the parser.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "vmm.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmm_guest	 vm;
	uint64_t		 st;
	int			 kind, i;

	if (size < 1)
		return (0);
	switch (data[0] % 3) {
	case 0:
		memset(&vm, 0, sizeof(vm));
		strlcpy(vm.vm_name, "v", sizeof(vm.vm_name));
		if (record_parse((const char *)data + 1, size - 1, &vm) == 0) {
			if (vm.vm_argc < 1 || vm.vm_argc >= VMM_ARGV_MAX ||
			    vm.vm_argv[vm.vm_argc] != NULL ||
			    vm.vm_nforwards > CONFIG_FORWARDS_MAX)
				__builtin_trap();
			for (i = 0; i < vm.vm_argc; i++)
				if (vm.vm_argv[i] == NULL)
					__builtin_trap();
		}
		qemu_argv_free(&vm);
		break;
	case 1:
		(void)qemu_parse_stat((const char *)data + 1, size - 1, &st);
		break;
	case 2:
		if (qmp_parse_line((const char *)data + 1, size - 1,
		    &kind) == 0 && (kind < QMP_MSG_GREETING ||
		    kind > QMP_MSG_EVENT))
			__builtin_trap();
		break;
	}
	return (0);
}
