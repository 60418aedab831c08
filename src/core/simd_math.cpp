#include "core/simd_math.hpp"

#include <immintrin.h>
#include <sleef.h>

namespace dmconv::simd {

#if defined(__AVX512F__)
void exp8(const double* in, double* out) { _mm512_store_pd(out, Sleef_expd8_u10avx512f(_mm512_load_pd(in))); }
void log8(const double* in, double* out) { _mm512_store_pd(out, Sleef_logd8_u10avx512f(_mm512_load_pd(in))); }
void sincospi8(const double* in, double* sin_out, double* cos_out) {
  const Sleef___m512d_2 r = Sleef_sincospid8_u05avx512f(_mm512_load_pd(in));
  _mm512_store_pd(sin_out, r.x);
  _mm512_store_pd(cos_out, r.y);
}
void erfc8(const double* in, double* out) { _mm512_store_pd(out, Sleef_erfcd8_u15avx512f(_mm512_load_pd(in))); }
void log1p8(const double* in, double* out) { _mm512_store_pd(out, Sleef_log1pd8_u10avx512f(_mm512_load_pd(in))); }
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
void erfc8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 4) _mm256_store_pd(out + h, Sleef_erfcd4_u15avx2(_mm256_load_pd(in + h)));
}
void log1p8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 4) _mm256_store_pd(out + h, Sleef_log1pd4_u10avx2(_mm256_load_pd(in + h)));
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
void erfc8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 2) _mm_store_pd(out + h, Sleef_erfcd2_u15sse2(_mm_load_pd(in + h)));
}
void log1p8(const double* in, double* out) {
  for (int h = 0; h < 8; h += 2) _mm_store_pd(out + h, Sleef_log1pd2_u10sse2(_mm_load_pd(in + h)));
}
const char* variant() { return "sse2"; }
#endif

}  // namespace dmconv::simd
