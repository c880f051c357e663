// Kernels of the DTMF receiver written for one instruction set beyond the x86-64 baseline (SSE2), chosen at run
// time: TelephonyDSP calls them only when the processor has the instructions, and they compute the same values,
// to the bit, as its portable Swift code (the same IEEE operations in the same order, no fused multiply-add).
#ifndef CTELEPHONYKERNELS_H
#define CTELEPHONYKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this processor runs the AVX kernels (x86-64 with AVX and an operating system that saves its registers),
/// else 0.
int callseq_kernels_have_avx(void);

/// The eight Goertzel filters of the DTMF receiver over one half-window of `count` samples from `x`, in one 8-lane
/// AVX register per recursion: the same computation as `DTMFDetector.filter` (its even/odd split recursion, the
/// half-window led by the zeros that make it 4m samples long), giving s[N-1] in `s1`, s[N-2] in `s2` (8 floats
/// each) and the samples' energy in `power`. `x` must have 3 readable floats before it; `count` >= 4.
/// `coefficients` is 2cos(w) and `doubleAngleCoefficients` 2cos(2w), 8 floats each. Call only when
/// `callseq_kernels_have_avx()` is 1.
void callseq_goertzel8_avx(
    const float *x, long count, const float *coefficients, const float *doubleAngleCoefficients,
    float *s1, float *s2, float *power);

/// `callseq_goertzel8_avx` over two half-windows of `count` samples, from `x` and from `y`, their steps
/// interleaved so that neither recursion waits on the other (the filter is bound by its recursions' latency, not
/// by its instructions): `s1` and `s2` 16 floats each (x's 8, then y's), `power` 2 floats.
void callseq_goertzel8x2_avx(
    const float *x, const float *y, long count, const float *coefficients, const float *doubleAngleCoefficients,
    float *s1, float *s2, float *power);

#ifdef __cplusplus
}
#endif

#endif
