// The DTMF receiver's eight Goertzel filters in AVX (see CTelephonyKernels.h). On x86-64 the portable Swift
// SIMD8<Float> is two SSE registers, and SSE's two-operand forms need a copy before every product; AVX holds the
// eight filters in one register and has three-operand forms, which halves the instructions of the filter loop.
// Every operation below is one of the Swift code's, on the same operands in the same order, so the results are
// the same to the bit; contraction into fused multiply-adds (which would round differently) is off, and the
// function is compiled for AVX alone (no FMA).
#include "CTelephonyKernels.h"

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int callseq_kernels_have_avx(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") ? 1 : 0;
}

// One half-window's recursions: the even samples' (ep, eq) and the odd samples' (op, oq), the energy, the sign.
typedef struct { __m256 ep, eq, op, oq; __m128 p; } Recursions;

// The first step: its first `lead` lanes are the zeros, as in Swift (lane by lane: a 16-byte load across the two
// stores that wrote these samples would not be forwarded from them).
__attribute__((target("avx"), always_inline))
static inline void begin(Recursions *r, const float *x, long lead, __m256 c) {
    const float *f0 = x - lead;
    const __m128 first = _mm_setr_ps(lead > 0 ? 0.0f : f0[0], lead > 1 ? 0.0f : f0[1], lead > 2 ? 0.0f : f0[2], f0[3]);
    r->p = _mm_mul_ps(first, first);
    float f[4];   // -first (the sign bit flipped, as Swift's negation), lane by lane
    _mm_storeu_ps(f, _mm_xor_ps(first, _mm_set1_ps(-0.0f)));
    r->ep = _mm256_set1_ps(f[0]);                                         // -v[j]
    r->op = _mm256_set1_ps(f[1]);                                         // -v[j+1]
    r->eq = _mm256_add_ps(_mm256_mul_ps(c, r->ep), _mm256_set1_ps(f[2]));   // -v[j+2]
    r->oq = _mm256_add_ps(_mm256_mul_ps(c, r->op), _mm256_set1_ps(f[3]));   // -v[j+3]
}

// Four samples from -,- to +,+ (Swift's `restoring`).
__attribute__((target("avx"), always_inline))
static inline void restoring(Recursions *r, const float *x, __m256 c) {
    const __m128 a = _mm_loadu_ps(x);
    r->p = _mm_add_ps(r->p, _mm_mul_ps(a, a));
    r->ep = _mm256_sub_ps(_mm256_add_ps(r->ep, _mm256_broadcast_ss(x)), _mm256_mul_ps(c, r->eq));
    r->op = _mm256_sub_ps(_mm256_add_ps(r->op, _mm256_broadcast_ss(x + 1)), _mm256_mul_ps(c, r->oq));
    r->eq = _mm256_add_ps(_mm256_add_ps(r->eq, _mm256_broadcast_ss(x + 2)), _mm256_mul_ps(c, r->ep));
    r->oq = _mm256_add_ps(_mm256_add_ps(r->oq, _mm256_broadcast_ss(x + 3)), _mm256_mul_ps(c, r->op));
}

// Four samples from +,+ to -,- (Swift's `negating`).
__attribute__((target("avx"), always_inline))
static inline void negating(Recursions *r, const float *x, __m256 c) {
    const __m128 a = _mm_loadu_ps(x);
    r->p = _mm_add_ps(r->p, _mm_mul_ps(a, a));
    r->ep = _mm256_sub_ps(_mm256_sub_ps(r->ep, _mm256_broadcast_ss(x)), _mm256_mul_ps(c, r->eq));
    r->op = _mm256_sub_ps(_mm256_sub_ps(r->op, _mm256_broadcast_ss(x + 1)), _mm256_mul_ps(c, r->oq));
    r->eq = _mm256_add_ps(_mm256_sub_ps(r->eq, _mm256_broadcast_ss(x + 2)), _mm256_mul_ps(c, r->ep));
    r->oq = _mm256_add_ps(_mm256_sub_ps(r->oq, _mm256_broadcast_ss(x + 3)), _mm256_mul_ps(c, r->op));
}

// s[N-1], s[N-2] and the energy. The last sample (padded index 4m - 1) is odd: v[N-1], v[N-3] are the odd
// recursion's last two values, v[N-2], v[N-4] the even one's.
__attribute__((target("avx"), always_inline))
static inline void end(const Recursions *r, __m256 w, __m256 sign, float *s1, float *s2, float *power) {
    _mm256_storeu_ps(s1, _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(r->oq, _mm256_mul_ps(w, r->eq)), r->op), sign));
    _mm256_storeu_ps(s2, _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(r->eq, _mm256_mul_ps(w, r->op)), r->ep), sign));
    float q[4];
    _mm_storeu_ps(q, r->p);
    *power = (q[0] + q[1]) + (q[2] + q[3]);
}

__attribute__((target("avx")))
void callseq_goertzel8_avx(
    const float *x, long n, const float *coefficients, const float *doubleAngleCoefficients,
    float *s1, float *s2, float *power)
{
    const __m256 c = _mm256_loadu_ps(doubleAngleCoefficients);
    const long lead = (4 - (n & 3)) & 3;
    Recursions r;
    begin(&r, x, lead, c);
    long k = 4 - lead;
    for (; k + 8 <= n; k += 8) {
        restoring(&r, x + k, c);
        negating(&r, x + k + 4, c);
    }
    __m256 sign = _mm256_set1_ps(-1.0f);
    if (k < n) {   // one more step
        restoring(&r, x + k, c);
        sign = _mm256_set1_ps(1.0f);
    }
    end(&r, _mm256_loadu_ps(coefficients), sign, s1, s2, power);
}

__attribute__((target("avx")))
void callseq_goertzel8x2_avx(
    const float *x, const float *y, long n, const float *coefficients, const float *doubleAngleCoefficients,
    float *s1, float *s2, float *power)
{
    const __m256 c = _mm256_loadu_ps(doubleAngleCoefficients);
    const long lead = (4 - (n & 3)) & 3;
    Recursions r, t;
    begin(&r, x, lead, c);
    begin(&t, y, lead, c);
    long k = 4 - lead;
    for (; k + 8 <= n; k += 8) {   // the two half-windows' steps interleaved: neither waits on the other
        restoring(&r, x + k, c);
        restoring(&t, y + k, c);
        negating(&r, x + k + 4, c);
        negating(&t, y + k + 4, c);
    }
    __m256 sign = _mm256_set1_ps(-1.0f);
    if (k < n) {   // one more step
        restoring(&r, x + k, c);
        restoring(&t, y + k, c);
        sign = _mm256_set1_ps(1.0f);
    }
    const __m256 w = _mm256_loadu_ps(coefficients);
    end(&r, w, sign, s1, s2, power);
    end(&t, w, sign, s1 + 8, s2 + 8, power + 1);
}

#else

int callseq_kernels_have_avx(void) { return 0; }

void callseq_goertzel8_avx(
    const float *x, long n, const float *coefficients, const float *doubleAngleCoefficients,
    float *s1, float *s2, float *power)
{
    (void)x; (void)n; (void)coefficients; (void)doubleAngleCoefficients; (void)s1; (void)s2; (void)power;
    __builtin_trap();   // never called: callseq_kernels_have_avx() is 0 here
}

void callseq_goertzel8x2_avx(
    const float *x, const float *y, long n, const float *coefficients, const float *doubleAngleCoefficients,
    float *s1, float *s2, float *power)
{
    (void)x; (void)y; (void)n; (void)coefficients; (void)doubleAngleCoefficients; (void)s1; (void)s2; (void)power;
    __builtin_trap();   // never called: callseq_kernels_have_avx() is 0 here
}

#endif
