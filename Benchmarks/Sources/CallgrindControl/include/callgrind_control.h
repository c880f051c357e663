// Marks the measured region for valgrind's callgrind (run with --collect-atstart=no): instructions are
// counted only between callgrind_begin() and callgrind_end(). Outside valgrind both are a few no-op
// instructions (valgrind's client requests), so the same binary also times the region natively.
#ifndef CALLGRIND_CONTROL_H
#define CALLGRIND_CONTROL_H

/// Starts counting (CALLGRIND_TOGGLE_COLLECT from the off state).
void callgrind_begin(void);
/// Stops counting (CALLGRIND_TOGGLE_COLLECT from the on state).
void callgrind_end(void);

#endif
