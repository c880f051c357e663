#include "callgrind_control.h"
#include <valgrind/callgrind.h>

void callgrind_begin(void) { CALLGRIND_TOGGLE_COLLECT; }
void callgrind_end(void) { CALLGRIND_TOGGLE_COLLECT; }
