"""DDIM and DDPM on the peer-comparison mixture, written plainly in PyTorch (CPU, float64).

This is the code a researcher would write, neither deliberately slow nor tuned: particles are
the rows of an (n, d) tensor; the exact mixture score broadcasts x[:, None, :] - means into an
(n, K, d) tensor, takes the responsibilities with torch.softmax over the K Gaussian
log-densities (log-sum-exp normalisation) and sums the component gradients with einsum. No
chunking, no in-place tricks, no torch.compile, no custom kernels. Threads: the caller sets
torch.set_num_threads.

The update rules are those of dmconv (src/samplers/ddim.cpp, src/samplers/ddpm.cpp), written in
their textbook form; abar[0] = 1 (data) > abar[1] > ... > abar[T] is the time grid.
  DDIM:  x0 = (x + (1 - abar_t) s) / sqrt(abar_t),  eps = -sqrt(1 - abar_t) s,
         x <- sqrt(abar_{t-1}) x0 + sqrt(1 - abar_{t-1}) eps
  DDPM (dmconv's `ddpm`, noise inside, on every step including t = 1):
         beta_t = 1 - abar_t / abar_{t-1},  x <- (x + beta_t s + sqrt(beta_t) z) / sqrt(1 - beta_t)
Y_T is drawn exactly from p_{X_T} (as dmconv's default exact_marginal initialisation), and the
loop runs t = T, ..., 1, returning Y_0.
"""
import math

import torch


class Mixture:
    """sum_k w_k N(mu_k, v_k I); at noise level abar, component k is N(sqrt(abar) mu_k, c_k I)
    with c_k = abar v_k + 1 - abar."""

    def __init__(self, weights, means, variances):
        self.weights = torch.tensor(weights, dtype=torch.float64)
        self.log_weights = torch.log(self.weights)
        self.means = torch.tensor(means, dtype=torch.float64)  # (K, d)
        self.variances = torch.tensor(variances, dtype=torch.float64)  # (K,)

    def score(self, x, abar):
        d = x.shape[1]
        m = math.sqrt(abar) * self.means  # (K, d)
        c = abar * self.variances + (1 - abar)  # (K,)
        diff = x[:, None, :] - m  # (n, K, d)
        log_p = self.log_weights - 0.5 * d * torch.log(c) - 0.5 * (diff**2).sum(-1) / c  # (n, K)
        r = torch.softmax(log_p, dim=1)  # responsibilities
        return -torch.einsum("nk,nkd->nd", r / c, diff)

    def sample(self, n, abar, generator):
        """n exact samples of X_t = sqrt(abar) X_0 + sqrt(1 - abar) W."""
        d = self.means.shape[1]
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        x0 = self.means[k] + self.variances[k].sqrt()[:, None] * torch.randn(n, d, generator=generator, dtype=torch.float64)
        return math.sqrt(abar) * x0 + math.sqrt(1 - abar) * torch.randn(n, d, generator=generator, dtype=torch.float64)


def ddim(mixture, abar, n, seed):
    g = torch.Generator().manual_seed(seed)
    T = len(abar) - 1
    x = mixture.sample(n, abar[T], g)
    for t in range(T, 0, -1):
        s = mixture.score(x, abar[t])
        x0 = (x + (1 - abar[t]) * s) / math.sqrt(abar[t])
        eps = -math.sqrt(1 - abar[t]) * s
        x = math.sqrt(abar[t - 1]) * x0 + math.sqrt(1 - abar[t - 1]) * eps
    return x


def ddpm(mixture, abar, n, seed):
    g = torch.Generator().manual_seed(seed)
    T = len(abar) - 1
    x = mixture.sample(n, abar[T], g)
    for t in range(T, 0, -1):
        beta = 1 - abar[t] / abar[t - 1]
        s = mixture.score(x, abar[t])
        z = torch.randn(x.shape, generator=g, dtype=torch.float64)
        x = (x + beta * s + math.sqrt(beta) * z) / math.sqrt(1 - beta)
    return x


SAMPLERS = {"ddim": ddim, "ddpm": ddpm}


def setup(threads):
    torch.set_num_threads(threads)
    return torch.__version__


def to_numpy(x):
    return x.numpy()
