#!/usr/bin/env python3
# 50-digit references for tests/targets/sphere_test.cpp (the test does not run this script).
# Usage: /usr/bin/python3 sphere_reference.py [d ...] > out.txt   (needs mpmath; ~15 minutes)
#
# Uniform law on S^{d-1}(r), noised: X_t = sqrt(a) X_0 + sigma W. Everything is computed by
# DIRECT QUADRATURE OF THE DEFINITION, never through Bessel functions:
#   p_t(x) = E_theta N(x; rho theta, sigma^2 I),  rho = sqrt(a) r,  theta uniform on S^{d-1}.
# With y = ||x||, phi = angle(theta, x) (density prop. to sin^{d-2}(phi) on [0, pi]) and
# u = 1 - cos(phi) in [0, 2] (density prop. to (u(2-u))^{(d-3)/2}), |x - rho theta|^2 =
# (y - rho)^2 + 2 rho y u, so with z = rho y/sigma^2
#   p_t(x) = (2 pi sigma^2)^{-d/2} exp(-(y - rho)^2/(2 sigma^2)) * I0/B,
#   I_k = int_0^2 u^k (u(2-u))^{(d-3)/2} e^{-z u} du,  B = int_0^2 (u(2-u))^{(d-3)/2} du.
# Tweedie (s* = (sqrt(a) E[X_0|x] - x)/sigma^2, J* = -I/sigma^2 + (a/sigma^4) Cov(X_0|x)) gives,
# with the posterior moments of u (weights e^{-z u}):
#   s*(x) = g n,  g = (rho E cos - y)/sigma^2  (E cos by the folded integral below),
#   c_par  = -1/sigma^2 + (rho^2/sigma^4) Var(u)                 (J* along n)
#   c_perp = -1/sigma^2 + (rho^2/sigma^4) E[u(2-u)]/(d-1)      (J* across n)
# Each quadrature: mpmath tanh-sinh (mp.dps = 60, maxdegree 10); for z > 1 in v = z u, split at
# the Gamma-like peak and at powers of 2 (an earlier version integrating over phi or u directly
# lost up to 1e-5 at d = 64, z ~ 1e6 without any warning from the error estimate: the v form
# agrees with mpmath besseli to 1e-60 there). Error estimates are checked to be < 1e-30
# relative (warnings on stderr otherwise).
# cond = |rho df/drho| / |f| (ulps of f per ulp of rho, by a centred difference with
# relative step 1e-20): the tolerance of the test allows for the rounding of rho = sqrt(a) r.
from mpmath import mp, mpf, quad, sqrt, log, exp, pi, beta, nstr, findroot, cos, sin, sinh
import os
import sys

mp.dps = 60


def integrals(d, z):
    # u = 1 - cos(phi) in [0, 2], law prop. to (u (2-u))^e du, e = (d-3)/2. For z > 1 the
    # boundary layer e^{-z u} is resolved by v = z u: I_k = z^{-e-1-k} int_0^{2z} v^k e^{-v}
    # v^e (2 - v/z)^e dv, split at the Gamma-peak e and at 2^k (tanh-sinh handles the
    # endpoint singularities of d = 2). Returns I0, I1, I2, Is (= int u(2-u) ...) and E cos(phi).
    e = mpf(d - 3) / 2
    out = []
    if z > 1:
        cand = [c * max(e, mpf(1)) for c in (0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 20, 40)] + [mpf(2) ** k for k in range(-2, 8)]
        pts = sorted(set([mpf(0)] + [c for c in cand if c < 2 * z] + [2 * z]))
        base = lambda v: exp(-v) * v ** e * (2 - v / z) ** e
        fs = [base, lambda v: (v / z) * base(v), lambda v: (v / z) ** 2 * base(v),
              lambda v: (v / z) * (2 - v / z) * base(v)]
        scale = z ** (-e - 1)
    else:
        pts = [mpf(0), mpf(1), mpf(2)]
        base = lambda u: (u * (2 - u)) ** e * exp(-z * u)
        fs = [base, lambda u: u * base(u), lambda u: u ** 2 * base(u), lambda u: u * (2 - u) * base(u)]
        scale = mpf(1)
    for k, f in enumerate(fs):
        val, err = quad(f, pts, error=True, maxdegree=10)
        if val != 0 and abs(err / val) > mpf(10) ** -30:
            print('# WARNING quadrature error', d, z, k, err / val, file=sys.stderr)
        out.append(val * scale)
    if z > 1:
        out.append(1 - out[1] / out[0])  # E u = O(1/z) < 1: no cancellation
    else:
        # E cos without cancellation at small z (fold u -> 2 - u):
        # int_0^2 (1-u) w e^{-zu} = 2 e^{-z} z int_0^1 (1-u) (u(2-u))^e (sinh(z(1-u))/z) du
        g = lambda u: 2 * (1 - u) * (u * (2 - u)) ** e * (sinh(z * (1 - u)) / z if z > 0 else (1 - u)) * exp(-z)
        val, err = quad(g, [mpf(0), mpf(1)], error=True, maxdegree=10)
        if val != 0 and abs(err / val) > mpf(10) ** -30:
            print('# WARNING quadrature error', d, z, 'cos', err / val, file=sys.stderr)
        out.append(val * z / out[0])
    return out


def quantities(d, a, s2, r, y, rho=None):
    if rho is None:
        rho = sqrt(a) * r
    z = rho * y / s2
    I0, I1, I2, Is, Ecos = integrals(d, z)
    B = 2 ** (d - 2) * beta(mpf(d - 1) / 2, mpf(d - 1) / 2)  # int_0^2 (u(2-u))^{(d-3)/2} du
    logp = -mpf(d) / 2 * log(2 * pi * s2) - (y - rho) ** 2 / (2 * s2) + log(I0 / B)
    Eu = I1 / I0
    g = (rho * Ecos - y) / s2
    var = I2 / I0 - Eu ** 2
    cpar = -1 / s2 + rho ** 2 / s2 ** 2 * var
    cperp = -1 / s2 + rho ** 2 / s2 ** 2 * (Is / I0) / (d - 1)
    if y == 0:
        g = mpf(0)  # s*(0) = 0 by symmetry
    return [logp, g, cpar, cperp]


def cond(d, a, s2, r, y, base):
    rho = sqrt(a) * r
    h = mpf(10) ** -20
    up = quantities(d, a, s2, r, y, rho * (1 + h))
    dn = quantities(d, a, s2, r, y, rho * (1 - h))
    return [abs((u - v) / (2 * h) / b) if b != 0 else mpf(0) for u, v, b in zip(up, dn, base)]


def main():
    r = mpf('1.5')
    # (abar, 1 - abar) as the exact doubles the test passes to NoiseLevel.
    levels = [(0.999999, 1e-06), (0.999, 0.001), (0.5, 0.5), (0.001, 0.999), (1e-06, 0.999999)]
    dims = [int(arg) for arg in sys.argv[1:]] or [2, 3, 8, 64]  # optional: a subset of d
    if os.environ.get('REVERSE_LEVELS'):  # for splitting a run over two processes
        levels.reverse()
    for d in dims:
        for a_d, s2_d in levels:
            a, s2 = mpf(a_d), mpf(s2_d)
            rho = float(sqrt(a) * r)
            sigma = float(sqrt(s2))
            ys = [0.0, 1e-300, 1e-8, 0.3 * rho, rho, rho + sigma, 3 * 1.5, 40 * 1.5]
            for y_d in ys:
                y = mpf(y_d)
                q = quantities(d, a, s2, r, y)
                c = cond(d, a, s2, r, y, q) if y_d != 0 else [mpf(0)] * 4
                z = sqrt(a) * r * y / s2
                print('    {%d, %r, %r, %r, %s, %s, %s, %s, %.3g, %.3g, %.3g, %.3g},  // z = %s' % (
                    d, a_d, s2_d, y_d, nstr(q[0], 25), nstr(q[1], 25), nstr(q[2], 25), nstr(q[3], 25),
                    float(c[0]), float(c[1]), float(c[2]), float(c[3]), nstr(z, 3)))
                sys.stdout.flush()
    if sys.argv[1:]:
        return
    # psi_2 per direction (docs/theory.md §8.4 (ii)) of <u, X_0>, r = 1: E exp(cos^2(phi)/K^2) = 2 with
    # phi distributed as sin^{d-2}(phi) on [0, pi]; by quadrature over phi and findroot.
    for d in (2, 3, 8, 64):
        norm_ = quad(lambda p: sin(p) ** (d - 2), [0, pi / 2])
        mgf = lambda lam: quad(lambda p: exp(lam * cos(p) ** 2) * sin(p) ** (d - 2), [0, pi / 2]) / norm_
        lam = findroot(lambda l: mgf(l) - 2, mpf(d) * log(2) / 2 if d > 2 else mpf(1.2))
        print('psi2 d=%d r=1: %s' % (d, nstr(1 / sqrt(lam), 20)))


if __name__ == '__main__':
    main()
