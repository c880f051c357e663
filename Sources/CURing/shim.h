#ifndef CURING_SHIM_H
#define CURING_SHIM_H
#include <liburing.h>
#endif
