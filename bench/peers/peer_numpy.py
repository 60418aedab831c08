"""DDIM and DDPM on the peer-comparison mixture, written plainly in NumPy (float64).

The code of peer_torch.py in NumPy (the softmax written out: subtract the row maximum,
exponentiate, normalise): what a researcher would write, neither deliberately slow nor tuned. Particles are the rows of an (n, d) array; the exact
mixture score broadcasts x[:, None, :] - means to (n, K, d), normalises the responsibilities by
log-sum-exp (subtracting the row maximum) and sums the gradients with np.einsum. NumPy's
element-wise operations and einsum run on one thread whatever the thread setting (only BLAS
calls would use more, and there are none here); OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are set
by the driver anyway.

Update rules and conventions: see peer_torch.py (they are dmconv's, src/samplers/ddim.cpp and
src/samplers/ddpm.cpp, variant `ddpm`).
"""
import math

import numpy as np


class Mixture:
    """sum_k w_k N(mu_k, v_k I); at noise level abar, component k is N(sqrt(abar) mu_k, c_k I)
    with c_k = abar v_k + 1 - abar."""

    def __init__(self, weights, means, variances):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.log_weights = np.log(self.weights)
        self.means = np.asarray(means, dtype=np.float64)  # (K, d)
        self.variances = np.asarray(variances, dtype=np.float64)  # (K,)

    def score(self, x, abar):
        d = x.shape[1]
        m = math.sqrt(abar) * self.means  # (K, d)
        c = abar * self.variances + (1 - abar)  # (K,)
        diff = x[:, None, :] - m  # (n, K, d)
        log_p = self.log_weights - 0.5 * d * np.log(c) - 0.5 * (diff**2).sum(-1) / c  # (n, K)
        r = np.exp(log_p - log_p.max(axis=1, keepdims=True))
        r /= r.sum(axis=1, keepdims=True)  # responsibilities (log-sum-exp normalised)
        return -np.einsum("nk,nkd->nd", r / c, diff)

    def sample(self, n, abar, rng):
        """n exact samples of X_t = sqrt(abar) X_0 + sqrt(1 - abar) W."""
        d = self.means.shape[1]
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        x0 = self.means[k] + np.sqrt(self.variances[k])[:, None] * rng.standard_normal((n, d))
        return math.sqrt(abar) * x0 + math.sqrt(1 - abar) * rng.standard_normal((n, d))


def ddim(mixture, abar, n, seed):
    rng = np.random.default_rng(seed)
    T = len(abar) - 1
    x = mixture.sample(n, abar[T], rng)
    for t in range(T, 0, -1):
        s = mixture.score(x, abar[t])
        x0 = (x + (1 - abar[t]) * s) / math.sqrt(abar[t])
        eps = -math.sqrt(1 - abar[t]) * s
        x = math.sqrt(abar[t - 1]) * x0 + math.sqrt(1 - abar[t - 1]) * eps
    return x


def ddpm(mixture, abar, n, seed):
    rng = np.random.default_rng(seed)
    T = len(abar) - 1
    x = mixture.sample(n, abar[T], rng)
    for t in range(T, 0, -1):
        beta = 1 - abar[t] / abar[t - 1]
        s = mixture.score(x, abar[t])
        z = rng.standard_normal(x.shape)
        x = (x + beta * s + math.sqrt(beta) * z) / math.sqrt(1 - beta)
    return x


SAMPLERS = {"ddim": ddim, "ddpm": ddpm}


def setup(threads):
    return np.__version__


def to_numpy(x):
    return x
