/*
 * The version castra and castrad report: the release, and the commit
 * it was built from when it was built inside a git checkout.
 * version.h is written by the Makefile whenever that commit changes.
 */

#include "castra.h"
#include "version.h"

const char *
castra_version(void)
{
	return (CASTRA_GIT_SHA[0] != '\0' ?
	    CASTRA_VERSION " (" CASTRA_GIT_SHA ")" : CASTRA_VERSION);
}
