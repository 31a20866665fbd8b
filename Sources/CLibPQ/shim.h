#ifndef GALAXY_CLIBPQ_SHIM_H
#define GALAXY_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
