/*
 * Fuzz the castra.conf(5) grammar: lexer, macros, every bound and the
 * checks of the whole file.  A configuration read from memory may not
 * include files, so no input reaches the filesystem.  A successful
 * parse is printed and parsed again, which must succeed.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const	 defines[] = { "fuzz=1", "mem=256M", NULL };
	struct config		*cf, *again;
	struct instance		*insts;
	char			*errs = NULL, *out = NULL;
	size_t			 outlen = 0, ninsts;
	FILE			*fp;

	cf = config_parse_buffer("/nonexistent/castra.conf",
	    (const char *)data, size, defines, &errs);
	free(errs);
	if (cf == NULL)
		return (0);
	if (config_instances(cf, &insts, &ninsts) == -1)
		abort();
	free(insts);
	if ((fp = open_memstream(&out, &outlen)) == NULL)
		abort();
	config_print(fp, cf);
	fclose(fp);
	errs = NULL;
	again = config_parse_buffer("/nonexistent/castra.conf", out, outlen,
	    NULL, &errs);
	if (again == NULL) {
		fprintf(stderr, "printed form does not parse:\n%s%s", out,
		    errs != NULL ? errs : "");
		abort();
	}
	free(errs);
	free(out);
	config_free(again);
	config_free(cf);
	return (0);
}
