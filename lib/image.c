/* castra image: see the fuller version below once written. */
#include "castra.h"
