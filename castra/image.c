/* castra image: being written; see castra(1). */

#include <err.h>

#include "castra.h"

int
cmd_image(int argc, char **argv)
{
	errx(EXIT_SOFTWARE, "image: not built yet");
}
