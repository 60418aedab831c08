#include "score_errors/fourier.hpp"

#include <algorithm>
#include <cmath>
#include <vector>
#include <numbers>
#include <sstream>

#include "core/error.hpp"
#include "core/simd_math.hpp"
#include "core/rng.hpp"

namespace dmconv::score_errors {
namespace {

const std::string kContext = "score error 'fourier'";

}  // namespace

FourierField FourierField::draw(int dim, int features, std::uint64_t seed, std::optional<double> phase,
                                const std::optional<Vector>& direction) {
  require(dim >= 1, kContext + ": the target dimension must be >= 1");
  if (features < 1) throw ParameterError(kContext, "features", std::to_string(features), "must be >= 1");
  if (phase && !std::isfinite(*phase)) throw ParameterError(kContext, "phase", shortest(*phase), "must be finite");
  Vector fixed_direction;
  if (direction) {
    const std::string written = ParamValue(std::vector<double>(direction->begin(), direction->end())).written();
    if (direction->size() != dim)
      throw ParameterError(kContext, "direction", written,
                           "has " + std::to_string(direction->size()) +
                               " entries: must have one per dimension of the target (d = " + std::to_string(dim) + ")");
    const double norm = direction->norm();
    if (!(std::isfinite(norm) && norm > 0.0))
      throw ParameterError(kContext, "direction", written, "must be a non-zero finite vector");
    fixed_direction = *direction / norm;
  }
  const RandomStreams streams(seed, 0);
  const StreamTag tag(StreamPurpose::kScoreErrorField, 0);
  FourierField field{Matrix(dim, features), Matrix(dim, features), Vector(features)};
  for (int m = 0; m < features; ++m) {
    const auto particle = static_cast<std::uint64_t>(m);
    if (direction) {
      field.output_directions.col(m) = fixed_direction;
      field.input_directions.col(m) = fixed_direction;
    } else {
      // A standard normal vector is zero with probability 0; redraw defensively anyway.
      for (int matrix = 0; matrix < 2; ++matrix) {
        Matrix& target = matrix == 0 ? field.output_directions : field.input_directions;
        Vector z(dim);
        std::uint64_t attempt = 0;
        do {
          streams.normals(particle, tag.sub(static_cast<std::uint64_t>(matrix) + 3 * attempt), z.data(), dim);
          ++attempt;
        } while (!(z.norm() > 0.0));
        target.col(m) = z / z.norm();
      }
    }
    field.phases(m) = phase ? *phase : 2.0 * std::numbers::pi * streams.uniform(particle, tag.sub(2), 0);
  }
  return field;
}

FourierScore::FourierScore(const Target& target, double a, double omega, FourierField field, TimeProfile profile)
    : target_(target), amplitude_(a), omega_(omega), field_(std::move(field)), profile_(profile) {
  std::ostringstream message;
  if (!(std::isfinite(a) && a >= 0.0)) {
    message << kContext << ": key 'a' = " << a << ": must be non-negative and finite";
    throw InvalidArgument(message.str());
  }
  if (!(std::isfinite(omega) && omega >= 0.0)) {
    message << kContext << ": key 'omega' = " << omega << ": must be non-negative and finite";
    throw InvalidArgument(message.str());
  }
  require(field_.features() >= 1 && field_.output_directions.rows() == target.dim() &&
              field_.input_directions.rows() == target.dim() &&
              field_.output_directions.cols() == field_.features() &&
              field_.input_directions.cols() == field_.features(),
          kContext + ": the Fourier field does not match the target dimension d = " + std::to_string(target.dim()));
}

double FourierScore::coefficient(const NoiseLevel& level) const {
  return amplitude_ * profile_.weight(level) * std::sqrt(2.0 / static_cast<double>(field_.features()));
}

void FourierScore::waves(ConstMatrixRef x, Eigen::Index first, Eigen::Index count, Wave wave, double* out) const {
  constexpr int L = simd::kLanes;
  const Eigen::Index d = x.rows();
  const int M = field_.features();
  thread_local std::vector<double, Eigen::aligned_allocator<double>> arguments;
  arguments.resize(static_cast<std::size_t>(M) * L);
  for (int m = 0; m < M; ++m) {
    const double* v = field_.input_directions.col(m).data();
    double* a = arguments.data() + static_cast<std::size_t>(m) * L;
    for (int lane = 0; lane < L; ++lane) {
      const double* xj = x.col(first + std::min<Eigen::Index>(lane, count - 1)).data();
      double dot = v[0] * xj[0];
      for (Eigen::Index i = 1; i < d; ++i) dot += v[i] * xj[i];
      a[lane] = omega_ * dot + field_.phases(m);
    }
    (wave == Wave::kSine ? simd::sin8 : simd::cos8)(a, out + static_cast<std::size_t>(m) * L);
  }
}

template <class EachColumn>
void FourierScore::for_each_column_wave(ConstMatrixRef x, Wave wave, const EachColumn& each_column) const {
  constexpr int L = simd::kLanes;
  thread_local std::vector<double, Eigen::aligned_allocator<double>> values;
  values.resize(static_cast<std::size_t>(field_.features()) * L);
  for (Eigen::Index first = 0; first < x.cols(); first += L) {
    const Eigen::Index count = std::min<Eigen::Index>(L, x.cols() - first);
    waves(x, first, count, wave, values.data());
    for (Eigen::Index lane = 0; lane < count; ++lane) each_column(first + lane, values.data() + lane);
  }
}

void FourierScore::compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const {
  target_.score(level, x, out);
  const double c = coefficient(level);
  const Eigen::Index d = x.rows();
  const int M = field_.features();
  for_each_column_wave(x, Wave::kSine, [&](Eigen::Index j, const double* sines) {
    double* o = out.col(j).data();
    for (int m = 0; m < M; ++m) {
      const double s = c * sines[static_cast<std::size_t>(m) * simd::kLanes];
      const double* u = field_.output_directions.col(m).data();
      for (Eigen::Index i = 0; i < d; ++i) o[i] += s * u[i];
    }
  });
}

void FourierScore::jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const {
  target_.score_jacobian(level, x, out);
  const double c = coefficient(level) * omega_;
  const Eigen::Index d = x.size();
  for_each_column_wave(x, Wave::kCosine, [&](Eigen::Index, const double* cosines) {
    for (int m = 0; m < field_.features(); ++m) {
      const double k = c * cosines[static_cast<std::size_t>(m) * simd::kLanes];
      for (Eigen::Index col = 0; col < d; ++col) {
        const double kv = k * field_.input_directions(col, m);
        for (Eigen::Index row = 0; row < d; ++row) out(row, col) += kv * field_.output_directions(row, m);
      }
    }
  });
}

// out.col(j m' + i) = J*(x_j) v_i + sum_m c cos(arg_m(x_j)) u_m <v_m, v_i>.
void FourierScore::jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef out) const {
  if (x.cols() == 0) return;
  target_.score_jacobian_apply(level, x, v, out);
  const double c = coefficient(level) * omega_;
  const Eigen::Index d = x.rows();
  const Eigen::Index per_particle = v.cols() / x.cols();
  const int M = field_.features();
  for_each_column_wave(x, Wave::kCosine, [&](Eigen::Index j, const double* cosines) {
    for (Eigen::Index i = 0; i < per_particle; ++i) {
      const Eigen::Index col = j * per_particle + i;
      const double* w = v.col(col).data();
      double* o = out.col(col).data();
      for (int m = 0; m < M; ++m) {
        const double* vm = field_.input_directions.col(m).data();
        double projection = vm[0] * w[0];
        for (Eigen::Index r = 1; r < d; ++r) projection += vm[r] * w[r];
        const double scale = c * cosines[static_cast<std::size_t>(m) * simd::kLanes] * projection;
        const double* u = field_.output_directions.col(m).data();
        for (Eigen::Index r = 0; r < d; ++r) o[r] += scale * u[r];
      }
    }
  });
}

// log |det(a I + c J)| with J = J* + J_delta formed densely (batched Jacobian-vector products
// on identity blocks), factored by partial-pivot LU per particle; 1-D: log |a + c J|.
void FourierScore::log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                           VectorRef out) const {
  const Eigen::Index d = x.rows(), n = x.cols();
  Matrix identities(d, n * d);
  for (Eigen::Index j = 0; j < n; ++j) identities.middleCols(j * d, d).setIdentity();
  Matrix jacobians(d, n * d);
  jacobian_apply(level, x, identities, jacobians);
  if (d == 1) {
    for (Eigen::Index j = 0; j < n; ++j) out(j) = std::log(std::fabs(a + c * jacobians(0, j)));
    return;
  }
  Matrix step(d, d);
  for (Eigen::Index j = 0; j < n; ++j) {
    step = c * jacobians.middleCols(j * d, d);
    step.diagonal().array() += a;
    const Eigen::PartialPivLU<Matrix> lu(step);
    out(j) = lu.matrixLU().diagonal().array().abs().log().sum();
  }
}

}  // namespace dmconv::score_errors
