// The standard normal law: density, log-density, distribution function and upper tail
//
//   phi(z) = exp(-z^2/2) / sqrt(2 pi),   log phi(z) = -z^2/2 - log sqrt(2 pi),
//   Phi(z) = erfc(-z/sqrt 2) / 2,        Q(z) = 1 - Phi(z) = erfc(z/sqrt 2) / 2,
//
// with libm's erfc/exp. Boost.Math's normal distribution is not used: its erfc is a different
// implementation, and these helpers must reproduce, bit for bit, the numbers the estimators and
// targets produced before they were shared (results files are compared bitwise).
//
// z/sqrt 2 is computed in two ways in the code base: z * fl(1/sqrt 2) (normal_cdf,
// normal_upper_tail) and z / fl(sqrt 2) (normal_upper_tail_quotient). They are equally accurate
// but differ in the last bit of the argument for most z (and then often of erfc); each caller
// keeps the form its recorded results were computed with. Q(z) is accurate (relative) for z > 0.
#pragma once
#include <cmath>
#include <numbers>

namespace dmconv {

inline constexpr double kInvSqrt2 = 0.70710678118654752440084436210484903928483593768847;    // 1/sqrt(2)
inline constexpr double kInvSqrt2Pi = 0.3989422804014326779399460599343818684758586311649;   // 1/sqrt(2 pi)
inline constexpr double kLogSqrt2Pi = 0.91893853320467274178032973640561763986139747363778;  // log sqrt(2 pi)

inline double normal_pdf(double z) { return kInvSqrt2Pi * std::exp(-0.5 * z * z); }
inline double normal_log_pdf(double z) { return -0.5 * z * z - kLogSqrt2Pi; }
inline double normal_cdf(double z) { return 0.5 * std::erfc(-z * kInvSqrt2); }
inline double normal_upper_tail(double z) { return 0.5 * std::erfc(z * kInvSqrt2); }
inline double normal_upper_tail_quotient(double z) { return 0.5 * std::erfc(z / std::numbers::sqrt2); }

}  // namespace dmconv
