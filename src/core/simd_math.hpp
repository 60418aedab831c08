// Elementary functions on eight lanes, from SLEEF (Shibata & Petrogalli, "SLEEF: A Portable
// Vectorized Library of C Standard Mathematical Functions", IEEE TPDS 31(6), 2020) and, for erfc,
// glibc's libmvec (x86_64 vector ABI, glibc >= 2.35):
//
//   exp8      e^x          1 ulp        (Sleef_expd*_u10)
//   log8      log x        1 ulp        (Sleef_logd*_u10)
//   sincospi8 sin(pi x), cos(pi x)  0.506 ulp  (Sleef_sincospid*_u05)
//   sin8, cos8  sin x, cos x  1 ulp      (Sleef_sind*_u10, Sleef_cosd*_u10; any finite x)
//   erfc8     erfc x       2 ulp measured on [0, 26] (libmvec _ZGV*_erfc; 4x the throughput of
//                          Sleef_erfcd8_u15, the probit likelihood's largest cost)
//   log1p8    log(1 + x)   1 ulp        (Sleef_log1pd*_u10)
//   box_muller8  x = sin(pi a) r, y = cos(pi a) r, r = sqrt(-2 log u): log8, sincospi8 and a
//                correctly rounded sqrt, the same operations in the same order as the scalar formula
//
// Each call evaluates all eight lanes at one SIMD width fixed at compile time (AVX-512: one
// call; AVX2 with FMA: two; otherwise SSE2: four), never with scalar functions, so a value does
// not depend on the lane or the batch it was computed in. The avx512f and avx2 variants of each
// library give identical bits (tests/core/simd_math_test.cpp compares them where both exist);
// the SSE2 fallback (no FMA) is not claimed to.
#pragma once

namespace dmconv::simd {

inline constexpr int kLanes = 8;

// Arguments and results: arrays of kLanes doubles aligned to 64 bytes; out may alias in.
void exp8(const double* in, double* out);
void log8(const double* in, double* out);
void sincospi8(const double* in, double* sin_out, double* cos_out);
void sin8(const double* in, double* out);
void cos8(const double* in, double* out);
void erfc8(const double* in, double* out);
void log1p8(const double* in, double* out);
void box_muller8(const double* angle, const double* uniform, double* x, double* y);

// The first index i < count with values[i] == target (count if none): a vectorised scan, the
// first occurrence as a scalar loop would find it. values need no alignment.
long first_equal(const double* values, long count, double target);

// The name of the SIMD variant compiled in ("avx512f", "avx2", "sse2").
const char* variant();

}  // namespace dmconv::simd
