#include "core/rng.hpp"

#include <Random123/philox.h>
#include <Random123/uniform.hpp>
#include <immintrin.h>
#include <sleef.h>

#include <algorithm>
#include <array>

namespace dmconv {
namespace {

using Philox = r123::Philox4x64;

Philox::ctr_type philox_block(std::uint64_t seed, std::uint64_t run, std::uint64_t particle,
                              std::uint64_t tag, std::uint64_t block) {
  Philox generator;
  const Philox::key_type key = {{seed, run}};
  const Philox::ctr_type counter = {{particle, tag, block, 0}};
  return generator(counter, key);
}

// One SIMD width for every pair, tails padded: a normal's value never depends on where its
// pair sits in a batch (SLEEF's avx512f and avx2 variants agree bit for bit; the scalar
// dispatcher does not, so it is never used).
#if defined(__AVX512F__)
constexpr int kLanes = 8;
void box_muller_lanes(const double* angle, const double* uniform, double* first, double* second) {
  const __m512d radius = _mm512_sqrt_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), Sleef_logd8_u10avx512f(_mm512_load_pd(uniform))));
  const Sleef___m512d_2 sin_cos = Sleef_sincospid8_u05avx512f(_mm512_load_pd(angle));
  _mm512_store_pd(first, _mm512_mul_pd(sin_cos.x, radius));
  _mm512_store_pd(second, _mm512_mul_pd(sin_cos.y, radius));
}
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int kLanes = 4;
void box_muller_lanes(const double* angle, const double* uniform, double* first, double* second) {
  const __m256d radius = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), Sleef_logd4_u10avx2(_mm256_load_pd(uniform))));
  const Sleef___m256d_2 sin_cos = Sleef_sincospid4_u05avx2(_mm256_load_pd(angle));
  _mm256_store_pd(first, _mm256_mul_pd(sin_cos.x, radius));
  _mm256_store_pd(second, _mm256_mul_pd(sin_cos.y, radius));
}
#else
constexpr int kLanes = 2;
void box_muller_lanes(const double* angle, const double* uniform, double* first, double* second) {
  const __m128d radius = _mm_sqrt_pd(_mm_mul_pd(_mm_set1_pd(-2.0), Sleef_logd2_u10sse2(_mm_load_pd(uniform))));
  const Sleef___m128d_2 sin_cos = Sleef_sincospid2_u05sse2(_mm_load_pd(angle));
  _mm_store_pd(first, _mm_mul_pd(sin_cos.x, radius));
  _mm_store_pd(second, _mm_mul_pd(sin_cos.y, radius));
}
#endif

// Pairs of 64-bit words are gathered, with where their two normals go, and transformed
// kChunk at a time: Philox stays scalar (64-bit multiply-high has no SIMD form), the
// transcendental part runs kLanes wide.
class NormalWriter {
 public:
  // Queues the pair (bits0, bits1); its normals go to first and, when non-null, second.
  void push(std::uint64_t bits0, std::uint64_t bits1, double* first, double* second) {
    angle_[size_] = r123::uneg11<double>(bits0);
    uniform_[size_] = r123::u01<double>(bits1);
    first_[size_] = first;
    second_[size_] = second;
    if (++size_ == kChunk) flush();
  }
  void flush() {
    if (size_ == 0) return;
    const int padded = (size_ + kLanes - 1) / kLanes * kLanes;
    for (int k = size_; k < padded; ++k) angle_[k] = 0.5, uniform_[k] = 0.5;
    for (int k = 0; k < padded; k += kLanes) box_muller_lanes(&angle_[k], &uniform_[k], &x_[k], &y_[k]);
    for (int k = 0; k < size_; ++k) {
      *first_[k] = x_[k];
      if (second_[k] != nullptr) *second_[k] = y_[k];
    }
    size_ = 0;
  }

 private:
  static constexpr int kChunk = 256;
  alignas(64) std::array<double, kChunk> angle_;
  alignas(64) std::array<double, kChunk> uniform_;
  alignas(64) std::array<double, kChunk> x_;
  alignas(64) std::array<double, kChunk> y_;
  std::array<double*, kChunk> first_;
  std::array<double*, kChunk> second_;
  int size_ = 0;
};

// Normals of stream (particle, tag) into out[0..size): Philox block b gives normals 4b..4b+3
// as the pairs (word 0, word 1) and (word 2, word 3).
void queue_normals(const RandomStreams& streams, std::uint64_t particle, std::uint64_t tag, double* out,
                   Eigen::Index size, NormalWriter& writer) {
  for (Eigen::Index first = 0; first < size; first += 4) {
    const auto bits = philox_block(streams.seed(), streams.run(), particle, tag, static_cast<std::uint64_t>(first / 4));
    const Eigen::Index left = size - first;
    writer.push(bits[0], bits[1], out + first, left > 1 ? out + first + 1 : nullptr);
    if (left > 2) writer.push(bits[2], bits[3], out + first + 2, left > 3 ? out + first + 3 : nullptr);
  }
}

}  // namespace

void RandomStreams::normals(std::uint64_t particle, StreamTag tag, double* out, Eigen::Index size) const {
  NormalWriter writer;
  queue_normals(*this, particle, tag.value(), out, size, writer);
  writer.flush();
}

void RandomStreams::fill_normals(std::uint64_t first_particle, StreamTag tag, MatrixRef out) const {
  NormalWriter writer;
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    queue_normals(*this, first_particle + static_cast<std::uint64_t>(j), tag.value(), out.col(j).data(), out.rows(),
                  writer);
  }
  writer.flush();
}

double RandomStreams::uniform(std::uint64_t particle, StreamTag tag, std::uint64_t index) const {
  const auto bits = philox_block(seed_, run_, particle, tag.value(), index / 4);
  return r123::u01<double>(bits[index % 4]);
}

}  // namespace dmconv
