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

__attribute__((target("avx")))
void callseq_goertzel8_avx(
    const float *x, long n, const float *coefficients, const float *doubleAngleCoefficients,
    float *s1out, float *s2out, float *powerOut)
{
    const __m256 c = _mm256_loadu_ps(doubleAngleCoefficients);
    // The first step: its first `lead` lanes are the zeros (read from before x, then cleared), as in Swift.
    const long lead = (4 - (n & 3)) & 3;
    // Lane by lane (a 16-byte load across the two stores that wrote these samples would not be forwarded).
    const float *f0 = x - lead;
    const __m128 first = _mm_setr_ps(lead > 0 ? 0.0f : f0[0], lead > 1 ? 0.0f : f0[1], lead > 2 ? 0.0f : f0[2], f0[3]);
    __m128 p = _mm_mul_ps(first, first);
    float f[4];   // -first (the sign bit flipped, as Swift's negation), lane by lane
    _mm_storeu_ps(f, _mm_xor_ps(first, _mm_set1_ps(-0.0f)));
    __m256 ep = _mm256_set1_ps(f[0]);                                    // -v[j]
    __m256 op = _mm256_set1_ps(f[1]);                                    // -v[j+1]
    __m256 eq = _mm256_add_ps(_mm256_mul_ps(c, ep), _mm256_set1_ps(f[2]));   // -v[j+2]
    __m256 oq = _mm256_add_ps(_mm256_mul_ps(c, op), _mm256_set1_ps(f[3]));   // -v[j+3]
    long k = 4 - lead;
    for (; k + 8 <= n; k += 8) {
        const __m128 a = _mm_loadu_ps(x + k), b = _mm_loadu_ps(x + k + 4);
        // restoring: from -,- to +,+
        p = _mm_add_ps(p, _mm_mul_ps(a, a));
        ep = _mm256_sub_ps(_mm256_add_ps(ep, _mm256_broadcast_ss(x + k)), _mm256_mul_ps(c, eq));
        op = _mm256_sub_ps(_mm256_add_ps(op, _mm256_broadcast_ss(x + k + 1)), _mm256_mul_ps(c, oq));
        eq = _mm256_add_ps(_mm256_add_ps(eq, _mm256_broadcast_ss(x + k + 2)), _mm256_mul_ps(c, ep));
        oq = _mm256_add_ps(_mm256_add_ps(oq, _mm256_broadcast_ss(x + k + 3)), _mm256_mul_ps(c, op));
        // negating: from +,+ to -,-
        p = _mm_add_ps(p, _mm_mul_ps(b, b));
        ep = _mm256_sub_ps(_mm256_sub_ps(ep, _mm256_broadcast_ss(x + k + 4)), _mm256_mul_ps(c, eq));
        op = _mm256_sub_ps(_mm256_sub_ps(op, _mm256_broadcast_ss(x + k + 5)), _mm256_mul_ps(c, oq));
        eq = _mm256_add_ps(_mm256_sub_ps(eq, _mm256_broadcast_ss(x + k + 6)), _mm256_mul_ps(c, ep));
        oq = _mm256_add_ps(_mm256_sub_ps(oq, _mm256_broadcast_ss(x + k + 7)), _mm256_mul_ps(c, op));
    }
    __m256 sign = _mm256_set1_ps(-1.0f);
    if (k < n) {   // one more step, restoring
        const __m128 a = _mm_loadu_ps(x + k);
        p = _mm_add_ps(p, _mm_mul_ps(a, a));
        ep = _mm256_sub_ps(_mm256_add_ps(ep, _mm256_broadcast_ss(x + k)), _mm256_mul_ps(c, eq));
        op = _mm256_sub_ps(_mm256_add_ps(op, _mm256_broadcast_ss(x + k + 1)), _mm256_mul_ps(c, oq));
        eq = _mm256_add_ps(_mm256_add_ps(eq, _mm256_broadcast_ss(x + k + 2)), _mm256_mul_ps(c, ep));
        oq = _mm256_add_ps(_mm256_add_ps(oq, _mm256_broadcast_ss(x + k + 3)), _mm256_mul_ps(c, op));
        sign = _mm256_set1_ps(1.0f);
    }
    // The last sample (padded index 4m - 1) is odd: v[N-1], v[N-3] are the odd recursion's last two values,
    // v[N-2], v[N-4] the even one's.
    const __m256 w = _mm256_loadu_ps(coefficients);
    const __m256 s1 = _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(oq, _mm256_mul_ps(w, eq)), op), sign);
    const __m256 s2 = _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(eq, _mm256_mul_ps(w, op)), ep), sign);
    // In halves: the caller reads them as two SSE registers, and a load within one store forwards from it.
    _mm_storeu_ps(s1out, _mm256_castps256_ps128(s1));
    _mm_storeu_ps(s1out + 4, _mm256_extractf128_ps(s1, 1));
    _mm_storeu_ps(s2out, _mm256_castps256_ps128(s2));
    _mm_storeu_ps(s2out + 4, _mm256_extractf128_ps(s2, 1));
    float q[4];
    _mm_storeu_ps(q, p);
    *powerOut = (q[0] + q[1]) + (q[2] + q[3]);
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

#endif
