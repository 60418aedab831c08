#include "targets/mixture_score_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/simd_math.hpp"

namespace dmconv {

namespace {
constexpr int L = simd::kLanes;
constexpr Eigen::Index kRowBlock = 64;  // coordinates per block: 64 x 8 doubles = 4 KiB of x

// Calls run(std::integral_constant<int, D>) with D = d for d <= 4 and D = 0 (runtime d) above:
// with the coordinate loops' trip count known, the compiler unrolls them, which is most of the
// cost at small d. The arithmetic and its order are the same for every D, so are the bits.
template <class Run>
void dispatch_dimension(Eigen::Index d, const Run& run) {
  switch (d) {
    case 1: return run(std::integral_constant<int, 1>{});
    case 2: return run(std::integral_constant<int, 2>{});
    case 3: return run(std::integral_constant<int, 3>{});
    case 4: return run(std::integral_constant<int, 4>{});
    default: return run(std::integral_constant<int, 0>{});
  }
}
// Triangular solves on a tile (row i of a d x L tile at [i L, (i + 1) L)), lane by lane, each row
// by the scalar formula in its order (c increasing), the lane loop innermost so that it vectorises:
//   forward:  y_i = (b_i - sum_{c < i} L(i, c) y_c) / L(i, i)   (y = L^{-1} b)
//   backward: y_i = (b_i - sum_{c > i} L(c, i) y_c) / L(i, i)   (y = L^{-T} b)
// y may be b: row i of b is read before row i of y is written.
template <int D>
void forward_substitute_tile(const Matrix& lower, Eigen::Index runtime_d, const double* b, double* y) {
  const Eigen::Index d = D > 0 ? D : runtime_d;
  for (Eigen::Index i = 0; i < d; ++i) {
    alignas(64) double t[L];
#pragma omp simd
    for (int lane = 0; lane < L; ++lane) t[lane] = b[i * L + lane];
    for (Eigen::Index c = 0; c < i; ++c) {
      const double factor = lower(i, c);
#pragma omp simd
      for (int lane = 0; lane < L; ++lane) t[lane] -= factor * y[c * L + lane];
    }
    const double diagonal = lower(i, i);
#pragma omp simd
    for (int lane = 0; lane < L; ++lane) y[i * L + lane] = t[lane] / diagonal;
  }
}
template <int D>
void backward_substitute_tile(const Matrix& lower, Eigen::Index runtime_d, const double* b, double* y) {
  const Eigen::Index d = D > 0 ? D : runtime_d;
  for (Eigen::Index i = d - 1; i >= 0; --i) {
    alignas(64) double t[L];
#pragma omp simd
    for (int lane = 0; lane < L; ++lane) t[lane] = b[i * L + lane];
    for (Eigen::Index c = i + 1; c < d; ++c) {
      const double factor = lower(c, i);
#pragma omp simd
      for (int lane = 0; lane < L; ++lane) t[lane] -= factor * y[c * L + lane];
    }
    const double diagonal = lower(i, i);
#pragma omp simd
    for (int lane = 0; lane < L; ++lane) y[i * L + lane] = t[lane] / diagonal;
  }
}
}  // namespace

// Tiles are row-major over lanes: entry (i, lane) at [i * L + lane], so each loop over lanes
// is one SIMD operation.
struct MixtureScoreKernel::Workspace {
  std::vector<double, Eigen::aligned_allocator<double>> x, score, residual, log_weighted, gradients, direction, product;
  void reserve(Eigen::Index d, Eigen::Index K, std::size_t full) {
    const auto dl = static_cast<std::size_t>(d * L), kl = static_cast<std::size_t>(K * L);
    if (x.size() < dl) x.resize(dl), score.resize(dl), residual.resize(dl), direction.resize(dl), product.resize(dl);
    if (log_weighted.size() < kl) log_weighted.resize(kl);
    if (gradients.size() < full * dl) gradients.resize(full * dl);
  }
};

MixtureScoreKernel::MixtureScoreKernel(const std::vector<double>& log_weights,
                                       const std::vector<GaussianComponent::AtLevel>& levels)
    : d_(levels.front().mean().size()), K_(static_cast<Eigen::Index>(levels.size())) {
  log_constant_.resize(K_);
  mean_.resize(d_, K_);
  precision_.setZero(d_, K_);
  for (Eigen::Index k = 0; k < K_; ++k) {
    const GaussianComponent::AtLevel& level = levels[static_cast<std::size_t>(k)];
    log_constant_(k) = log_weights[static_cast<std::size_t>(k)] + level.log_normaliser();
    mean_.col(k) = level.mean();
    if (level.kind() == CovarianceKind::kFull) {
      full_index_.push_back(static_cast<int>(lower_.size()));
      lower_.push_back(level.lower_factor());
    } else {
      full_index_.push_back(-1);
      precision_.col(k) = level.precision_diagonal();
    }
  }
}

double MixtureScoreKernel::flops_per_particle() const {
  const auto d = static_cast<double>(d_);
  double flops = 0.0;
  for (int index : full_index_) flops += index < 0 ? 8.0 * d : 2.0 * d * d + 6.0 * d;
  return flops + 4.0 * static_cast<double>(K_);  // softmax: subtract, exponential, sum, divide
}

void MixtureScoreKernel::evaluate(ConstMatrixRef x, MatrixRef* score, VectorRef* log_density) const {
  thread_local Workspace work;
  work.reserve(d_, K_, lower_.size());
  const auto run = [&](auto fixed) {
    constexpr int D = decltype(fixed)::value;
    for (Eigen::Index first = 0; first < x.cols(); first += L)
      evaluate_tile<D>(x, first, std::min<Eigen::Index>(L, x.cols() - first), work, score != nullptr, score,
                       log_density);
  };
  dispatch_dimension(d_, run);
}

void MixtureScoreKernel::jacobian_apply(ConstMatrixRef x, ConstMatrixRef v, MatrixRef out, MatrixRef* score) const {
  thread_local Workspace work;
  work.reserve(d_, K_, lower_.size());
  const Eigen::Index directions = x.cols() > 0 ? v.cols() / x.cols() : 0;
  const auto run = [&](auto fixed) {
    constexpr int D = decltype(fixed)::value;
    for (Eigen::Index first = 0; first < x.cols(); first += L) {
      const Eigen::Index count = std::min<Eigen::Index>(L, x.cols() - first);
      evaluate_tile<D>(x, first, count, work, true, score, nullptr);
      jacobian_tile<D>(v, first, count, directions, work, out);
    }
  };
  dispatch_dimension(d_, run);
}

template <int D>
void MixtureScoreKernel::jacobian_tile(ConstMatrixRef v, Eigen::Index first, Eigen::Index count,
                                       Eigen::Index directions, Workspace& work, MatrixRef out) const {
  const Eigen::Index d = D > 0 ? D : d_;
  const double* __restrict xt = work.x.data();
  const double* __restrict st = work.score.data();
  const double* __restrict lw = work.log_weighted.data();  // normalised w_k
  double* __restrict vt = work.direction.data();
  double* __restrict ot = work.product.data();
  double* __restrict y = work.residual.data();
  for (Eigen::Index r = 0; r < directions; ++r) {
    for (int lane = 0; lane < L; ++lane) {
      const Eigen::Index column = (first + std::min<Eigen::Index>(lane, count - 1)) * directions + r;
      for (Eigen::Index i = 0; i < d; ++i) vt[i * L + lane] = v(i, column);
    }
    alignas(64) double sv[L] = {};
    for (Eigen::Index i = 0; i < d; ++i)
#pragma omp simd
      for (int lane = 0; lane < L; ++lane) sv[lane] += st[i * L + lane] * vt[i * L + lane];
    for (Eigen::Index i = 0; i < d; ++i)
#pragma omp simd
      for (int lane = 0; lane < L; ++lane) ot[i * L + lane] = -(st[i * L + lane] * sv[lane]);
    for (Eigen::Index k = 0; k < K_; ++k) {
      const double* w = lw + k * L;
      const int full = full_index_[static_cast<std::size_t>(k)];
      alignas(64) double gv[L] = {};
      if (full < 0) {
        const double* m = mean_.col(k).data();
        const double* p = precision_.col(k).data();
        for (Eigen::Index i = 0; i < d; ++i)
#pragma omp simd
          for (int lane = 0; lane < L; ++lane) gv[lane] += (m[i] - xt[i * L + lane]) * p[i] * vt[i * L + lane];
        for (Eigen::Index i = 0; i < d; ++i) {
          // Hoisted so that GCC vectorises the lane loop at every D (at D = 1 it did not).
          const double mi = m[i], pi = p[i];
          const double* __restrict xi = xt + i * L;
          const double* __restrict vi = vt + i * L;
          double* __restrict oi = ot + i * L;
#pragma omp simd
          for (int lane = 0; lane < L; ++lane) {
            const double g = (mi - xi[lane]) * pi;
            oi[lane] += w[lane] * (g * gv[lane] - pi * vi[lane]);
          }
        }
      } else {
        const Matrix& lower = lower_[static_cast<std::size_t>(full)];
        const double* g = work.gradients.data() + static_cast<std::size_t>(full) * static_cast<std::size_t>(d * L);
        for (Eigen::Index i = 0; i < d; ++i)
#pragma omp simd
          for (int lane = 0; lane < L; ++lane) gv[lane] += g[i * L + lane] * vt[i * L + lane];
        // C^{-1} v = L^{-T} L^{-1} v: forward, then backward substitution, in place in y.
        forward_substitute_tile<D>(lower, d, vt, y);
        backward_substitute_tile<D>(lower, d, y, y);
        for (Eigen::Index i = 0; i < d; ++i)
#pragma omp simd
          for (int lane = 0; lane < L; ++lane)
            ot[i * L + lane] += w[lane] * (g[i * L + lane] * gv[lane] - y[i * L + lane]);
      }
    }
    for (Eigen::Index lane = 0; lane < count; ++lane)
      for (Eigen::Index i = 0; i < d; ++i) out(i, (first + lane) * directions + r) = ot[i * L + lane];
  }
}

template <int D>
void MixtureScoreKernel::evaluate_tile(ConstMatrixRef x, Eigen::Index first, Eigen::Index count, Workspace& work,
                                       bool with_score, MatrixRef* score, VectorRef* log_density) const {
  const Eigen::Index d = D > 0 ? D : d_;
  double* __restrict xt = work.x.data();
  double* __restrict st = work.score.data();
  double* __restrict r = work.residual.data();
  double* __restrict lw = work.log_weighted.data();
  // Lanes past the last particle repeat it; their results are discarded.
  for (int lane = 0; lane < L; ++lane) {
    const Eigen::Index j = first + std::min<Eigen::Index>(lane, count - 1);
    for (Eigen::Index i = 0; i < d; ++i) xt[i * L + lane] = x(i, j);
  }
  // q_k accumulates in lw[k * L + lane]. Diagonal components run over blocks of kRowBlock
  // coordinates, all components per block, so the block of x stays in L1 whatever d; each q_k
  // still sums over i in increasing order.
  std::fill(lw, lw + K_ * L, 0.0);
  for (Eigen::Index i0 = 0; i0 < d; i0 += kRowBlock) {
    const Eigen::Index i1 = std::min(d, i0 + kRowBlock);
    for (Eigen::Index k = 0; k < K_; ++k) {
      if (full_index_[static_cast<std::size_t>(k)] >= 0) continue;
      double* __restrict q = lw + k * L;
      const double* m = mean_.col(k).data();
      const double* p = precision_.col(k).data();
      for (Eigen::Index i = i0; i < i1; ++i)
#pragma omp simd
        for (int lane = 0; lane < L; ++lane) {
          const double ri = xt[i * L + lane] - m[i];
          q[lane] += ri * ri * p[i];
        }
    }
  }
  for (Eigen::Index k = 0; k < K_; ++k) {
    const int full = full_index_[static_cast<std::size_t>(k)];
    if (full < 0) continue;
    // z = L^{-1} (x - m) by forward substitution, q = ||z||^2, then g = -L^{-T} z.
    double* __restrict q = lw + k * L;
    const double* m = mean_.col(k).data();
    const Matrix& lower = lower_[static_cast<std::size_t>(full)];
    double* __restrict g = work.gradients.data() + static_cast<std::size_t>(full) * static_cast<std::size_t>(d * L);
    for (Eigen::Index i = 0; i < d; ++i) {
      const double mi = m[i];
#pragma omp simd
      for (int lane = 0; lane < L; ++lane) r[i * L + lane] = xt[i * L + lane] - mi;
    }
    forward_substitute_tile<D>(lower, d, r, r);
    for (Eigen::Index i = 0; i < d; ++i)
#pragma omp simd
      for (int lane = 0; lane < L; ++lane) q[lane] += r[i * L + lane] * r[i * L + lane];
    backward_substitute_tile<D>(lower, d, r, g);
#pragma omp simd
    for (Eigen::Index e = 0; e < d * L; ++e) g[e] = -g[e];
  }
  for (Eigen::Index k = 0; k < K_; ++k)
#pragma omp simd
    for (int lane = 0; lane < L; ++lane) lw[k * L + lane] = log_constant_(k) - 0.5 * lw[k * L + lane];
  // Softmax over components, lane by lane.
  alignas(64) double top[L], total[L] = {};
  for (int lane = 0; lane < L; ++lane) top[lane] = lw[lane];
  for (Eigen::Index k = 1; k < K_; ++k)
#pragma omp simd
    for (int lane = 0; lane < L; ++lane) top[lane] = std::max(top[lane], lw[k * L + lane]);
  for (Eigen::Index k = 0; k < K_; ++k) {
#pragma omp simd
    for (int lane = 0; lane < L; ++lane) lw[k * L + lane] -= top[lane];
    simd::exp8(lw + k * L, lw + k * L);
#pragma omp simd
    for (int lane = 0; lane < L; ++lane) total[lane] += lw[k * L + lane];
  }
  if (log_density != nullptr) {
    alignas(64) double log_total[L];
    simd::log8(total, log_total);
    for (Eigen::Index lane = 0; lane < count; ++lane) (*log_density)(first + lane) = top[lane] + log_total[lane];
  }
  if (!with_score) return;
  for (Eigen::Index k = 0; k < K_; ++k)
#pragma omp simd
    for (int lane = 0; lane < L; ++lane) lw[k * L + lane] /= total[lane];
  std::fill(st, st + d * L, 0.0);
  for (Eigen::Index i0 = 0; i0 < d; i0 += kRowBlock) {
    const Eigen::Index i1 = std::min(d, i0 + kRowBlock);
    for (Eigen::Index k = 0; k < K_; ++k) {
      const double* w = lw + k * L;
      const int full = full_index_[static_cast<std::size_t>(k)];
      if (full < 0) {
        const double* m = mean_.col(k).data();
        const double* p = precision_.col(k).data();
        for (Eigen::Index i = i0; i < i1; ++i)
#pragma omp simd
          for (int lane = 0; lane < L; ++lane) st[i * L + lane] += w[lane] * ((m[i] - xt[i * L + lane]) * p[i]);
      } else {
        const double* g = work.gradients.data() + static_cast<std::size_t>(full) * static_cast<std::size_t>(d * L);
        for (Eigen::Index i = i0; i < i1; ++i)
#pragma omp simd
          for (int lane = 0; lane < L; ++lane) st[i * L + lane] += w[lane] * g[i * L + lane];
      }
    }
  }
  if (score == nullptr) return;
  for (Eigen::Index lane = 0; lane < count; ++lane)
    for (Eigen::Index i = 0; i < d; ++i) (*score)(i, first + lane) = st[i * L + lane];
}

}  // namespace dmconv
