#ifndef GALAXY_CTURBOJPEG_SHIM_H
#define GALAXY_CTURBOJPEG_SHIM_H
#include <turbojpeg.h>
#endif
