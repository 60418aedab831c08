#include "core/simd_math.hpp"

#include <immintrin.h>
#include <sleef.h>

// glibc's libmvec (>= 2.35), by its x86_64 vector-function ABI names: erfc at eight, four and two
// lanes. Its AVX-512 and AVX2 variants give identical bits (tests/core/simd_math_test.cpp).
extern "C" {
__m512d _ZGVeN8v_erfc(__m512d);
__m256d _ZGVdN4v_erfc(__m256d);
__m128d _ZGVbN2v_erfc(__m128d);
}

namespace dmconv::simd {

#if defined(__AVX512F__)
void exp8(const double* in, double* out) { _mm512_store_pd(out, Sleef_expd8_u10avx512f(_mm512_load_pd(in))); }
void log8(const double* in, double* out) { _mm512_store_pd(out, Sleef_logd8_u10avx512f(_mm512_load_pd(in))); }
void sincospi8(const double* in, double* sin_out, double* cos_out) {
  const Sleef___m512d_2 r = Sleef_sincospid8_u05avx512f(_mm512_load_pd(in));
  _mm512_store_pd(sin_out, r.x);
  _mm512_store_pd(cos_out, r.y);
}
void sin8(const double* in, double* out) { _mm512_store_pd(out, Sleef_sind8_u10avx512f(_mm512_load_pd(in))); }
void cos8(const double* in, double* out) { _mm512_store_pd(out, Sleef_cosd8_u10avx512f(_mm512_load_pd(in))); }
void erfc8(const double* in, double* out) { _mm512_store_pd(out, _ZGVeN8v_erfc(_mm512_load_pd(in))); }
void log1p8(const double* in, double* out) { _mm512_store_pd(out, Sleef_log1pd8_u10avx512f(_mm512_load_pd(in))); }
void box_muller8(const double* angle, const double* uniform, double* x, double* y) {
  // The masked sqrt with every lane selected: GCC 12's unmasked one trips -Wuninitialized.
  const __m512d radius = _mm512_maskz_sqrt_pd(
      __mmask8{0xff}, _mm512_mul_pd(_mm512_set1_pd(-2.0), Sleef_logd8_u10avx512f(_mm512_load_pd(uniform))));
  const Sleef___m512d_2 r = Sleef_sincospid8_u05avx512f(_mm512_load_pd(angle));
  _mm512_store_pd(x, _mm512_mul_pd(r.x, radius));
  _mm512_store_pd(y, _mm512_mul_pd(r.y, radius));
}
long first_equal(const double* values, long count, double target) {
  const __m512d wanted = _mm512_set1_pd(target);
  long first = 0;
  for (; first + 8 <= count; first += 8) {
    const __mmask8 hits = _mm512_cmp_pd_mask(_mm512_loadu_pd(values + first), wanted, _CMP_EQ_OQ);
    if (hits != 0) return first + __builtin_ctz(hits);
  }
  for (; first < count; ++first)
    if (values[first] == target) return first;
  return count;
}
const char* variant() { return "avx512f"; }
#elif defined(__AVX2__) && defined(__FMA__)
void exp8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 4) _mm256_store_pd(out + h, Sleef_expd4_u10avx2(_mm256_load_pd(in + h)));
}
void log8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 4) _mm256_store_pd(out + h, Sleef_logd4_u10avx2(_mm256_load_pd(in + h)));
}
void sincospi8(const double* in, double* sin_out, double* cos_out) {
  for (int h = 0; h < 8; h += 4) {
    const Sleef___m256d_2 r = Sleef_sincospid4_u05avx2(_mm256_load_pd(in + h));
    _mm256_store_pd(sin_out + h, r.x);
    _mm256_store_pd(cos_out + h, r.y);
  }
}
void sin8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 4) _mm256_store_pd(out + h, Sleef_sind4_u10avx2(_mm256_load_pd(in + h)));
}
void cos8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 4) _mm256_store_pd(out + h, Sleef_cosd4_u10avx2(_mm256_load_pd(in + h)));
}
void erfc8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 4) _mm256_store_pd(out + h, _ZGVdN4v_erfc(_mm256_load_pd(in + h)));
}
void log1p8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 4) _mm256_store_pd(out + h, Sleef_log1pd4_u10avx2(_mm256_load_pd(in + h)));
}
void box_muller8(const double* angle, const double* uniform, double* x, double* y) {
  for (int h = 0; h < 8; h += 4) {
    const __m256d radius =
        _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), Sleef_logd4_u10avx2(_mm256_load_pd(uniform + h))));
    const Sleef___m256d_2 r = Sleef_sincospid4_u05avx2(_mm256_load_pd(angle + h));
    _mm256_store_pd(x + h, _mm256_mul_pd(r.x, radius));
    _mm256_store_pd(y + h, _mm256_mul_pd(r.y, radius));
  }
}
long first_equal(const double* values, long count, double target) {
  const __m256d wanted = _mm256_set1_pd(target);
  long first = 0;
  for (; first + 4 <= count; first += 4) {
    const int hits = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(values + first), wanted, _CMP_EQ_OQ));
    if (hits != 0) return first + __builtin_ctz(static_cast<unsigned>(hits));
  }
  for (; first < count; ++first)
    if (values[first] == target) return first;
  return count;
}
const char* variant() { return "avx2"; }
#else
void exp8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 2) _mm_store_pd(out + h, Sleef_expd2_u10sse2(_mm_load_pd(in + h)));
}
void log8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 2) _mm_store_pd(out + h, Sleef_logd2_u10sse2(_mm_load_pd(in + h)));
}
void sincospi8(const double* in, double* sin_out, double* cos_out) {
  for (int h = 0; h < 8; h += 2) {
    const Sleef___m128d_2 r = Sleef_sincospid2_u05sse2(_mm_load_pd(in + h));
    _mm_store_pd(sin_out + h, r.x);
    _mm_store_pd(cos_out + h, r.y);
  }
}
void sin8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 2) _mm_store_pd(out + h, Sleef_sind2_u10sse2(_mm_load_pd(in + h)));
}
void cos8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 2) _mm_store_pd(out + h, Sleef_cosd2_u10sse2(_mm_load_pd(in + h)));
}
void erfc8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 2) _mm_store_pd(out + h, _ZGVbN2v_erfc(_mm_load_pd(in + h)));
}
void log1p8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 2) _mm_store_pd(out + h, Sleef_log1pd2_u10sse2(_mm_load_pd(in + h)));
}
void box_muller8(const double* angle, const double* uniform, double* x, double* y) {
  for (int h = 0; h < 8; h += 2) {
    const __m128d radius =
        _mm_sqrt_pd(_mm_mul_pd(_mm_set1_pd(-2.0), Sleef_logd2_u10sse2(_mm_load_pd(uniform + h))));
    const Sleef___m128d_2 r = Sleef_sincospid2_u05sse2(_mm_load_pd(angle + h));
    _mm_store_pd(x + h, _mm_mul_pd(r.x, radius));
    _mm_store_pd(y + h, _mm_mul_pd(r.y, radius));
  }
}
long first_equal(const double* values, long count, double target) {
  for (long first = 0; first < count; ++first)
    if (values[first] == target) return first;
  return count;
}
const char* variant() { return "sse2"; }
#endif

}  // namespace dmconv::simd
