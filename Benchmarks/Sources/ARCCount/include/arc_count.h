// Counts the Swift runtime's reference-counting calls made by the benchmark executable (which links the
// library statically): swift_retain/release and their _n, bridgeObject and nonatomic forms. The executable's
// definitions take the place of libswiftCore's for its own calls and forward to them.
#ifndef ARC_COUNT_H
#define ARC_COUNT_H
#include <stdint.h>

/// Retains so far (an _n call counts n).
uint64_t arc_count_retains(void);
/// Releases so far (an _n call counts n).
uint64_t arc_count_releases(void);
#endif
