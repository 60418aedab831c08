// The thread count of an OpenMP region from a user setting: threads > 0 is taken as given,
// threads = 0 means "the OpenMP default" (omp_get_max_threads(), i.e. OMP_NUM_THREADS or the
// number of cores). Results never depend on it: every parallel loop of the project assigns work
// per particle / per row with counter-based streams and reduces in a fixed order.
#pragma once
#include <omp.h>

namespace dmconv {

// Precondition: threads >= 0 (callers validate and name their own key in the error).
inline int resolve_threads(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

}  // namespace dmconv
