#!/bin/sh
#
# Four VMs at once to their first hellos, through castra-vmm against
# four hand-run QEMUs; see bench/up.
exec "$(dirname "$0")/up" 4 "${1:-3}"
