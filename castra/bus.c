/* castra bus: being written; see castra(1). */

#include <err.h>

#include "castra.h"

int
cmd_bus(int argc, char **argv)
{
	errx(EXIT_SOFTWARE, "bus: not built yet");
}
