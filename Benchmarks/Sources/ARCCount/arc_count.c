// Reference counting, counted: package-benchmark's retainCount/releaseCount metrics rely on runtime hooks that
// Swift 6.3 on Linux bypasses for retains and that crash some benchmarks (ordo-one/benchmark issue 349); its
// runtime interposer is not available here. These definitions of the runtime's entry points are linked into the
// benchmark executable, so every call its code (CallSequence included) makes lands here first.
// Declared preserve_most: the callers may expect the runtime's register-preserving convention, and a
// preserve_most callee is safe for plain C callers too.
#define _GNU_SOURCE
#include "arc_count.h"
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>

#define CC __attribute__((preserve_most))

static atomic_uint_fast64_t retains;
static atomic_uint_fast64_t releases;

uint64_t arc_count_retains(void) { return atomic_load_explicit(&retains, memory_order_relaxed); }
uint64_t arc_count_releases(void) { return atomic_load_explicit(&releases, memory_order_relaxed); }

static inline void count(atomic_uint_fast64_t *counter, uint32_t n) {
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

typedef void *(*retain_fn)(void *);
typedef void *(*retain_n_fn)(void *, uint32_t);
typedef void (*release_fn)(void *);
typedef void (*release_n_fn)(void *, uint32_t);

static void *real(const char *name) {
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) abort();   // no runtime to forward to: the counts would be meaningless
    return f;
}

#define RETAIN(name)                                                                  \
    static retain_fn real_##name;                                                     \
    CC void *name(void *object) {                                                     \
        if (!real_##name) real_##name = (retain_fn)real(#name);                       \
        if (object) count(&retains, 1);                                               \
        return real_##name(object);                                                   \
    }
#define RETAIN_N(name)                                                                \
    static retain_n_fn real_##name;                                                   \
    CC void *name(void *object, uint32_t n) {                                         \
        if (!real_##name) real_##name = (retain_n_fn)real(#name);                     \
        if (object) count(&retains, n);                                               \
        return real_##name(object, n);                                                \
    }
#define RELEASE(name)                                                                 \
    static release_fn real_##name;                                                    \
    CC void name(void *object) {                                                      \
        if (!real_##name) real_##name = (release_fn)real(#name);                      \
        if (object) count(&releases, 1);                                              \
        real_##name(object);                                                          \
    }
#define RELEASE_N(name)                                                               \
    static release_n_fn real_##name;                                                  \
    CC void name(void *object, uint32_t n) {                                          \
        if (!real_##name) real_##name = (release_n_fn)real(#name);                    \
        if (object) count(&releases, n);                                              \
        real_##name(object, n);                                                       \
    }

RETAIN(swift_retain)
RETAIN_N(swift_retain_n)
RELEASE(swift_release)
RELEASE_N(swift_release_n)
RETAIN(swift_nonatomic_retain)
RETAIN_N(swift_nonatomic_retain_n)
RELEASE(swift_nonatomic_release)
RELEASE_N(swift_nonatomic_release_n)
RETAIN(swift_bridgeObjectRetain)
RETAIN_N(swift_bridgeObjectRetain_n)
RELEASE(swift_bridgeObjectRelease)
RELEASE_N(swift_bridgeObjectRelease_n)
