#ifndef CSPANDSP_SHIM_H
#define CSPANDSP_SHIM_H
#include <stdint.h>
#include <stdlib.h>
#include <spandsp.h>
#endif
