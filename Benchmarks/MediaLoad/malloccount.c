// Counts every heap allocation of the process, for measuring the media engine's allocations per tick:
//   cc -O2 -shared -fPIC -o libmalloccount.so malloccount.c
//   LD_PRELOAD=$PWD/libmalloccount.so CALLSERVER_LOAD_CALLS=500 swift test --skip-build --filter load
// The test finds `malloccount_total` with dlsym. glibc's __libc_* entry points do the real work.
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_ulong allocations;

static inline void count(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    count();
    void *p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

unsigned long malloccount_total(void) { return atomic_load_explicit(&allocations, memory_order_relaxed); }
