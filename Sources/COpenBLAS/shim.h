#ifndef GALAXY_COPENBLAS_SHIM_H
#define GALAXY_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
