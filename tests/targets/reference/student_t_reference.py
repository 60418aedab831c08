#!/usr/bin/python3
"""High-precision (90-digit) references for targets/student_t (tests/targets/student_t_test.cpp). Not run by the tests.

p_t(x) = int q(y) N(x; sqrt(a) y, sigma^2) dy with q the scaled Student t_nu density,
          q(y) = Gamma((nu+1)/2) / (sqrt(nu pi) s Gamma(nu/2)) (1 + y^2/(nu s^2))^{-(nu+1)/2},
evaluated with mpmath.quad (tanh-sinh, mp.dps = 90) of the defining convolution integral over y,
split at 0, +-10^k and at the Gaussian peak y0 = x/sqrt(a) +- {1,3,10,40} w, w = sigma/sqrt(a):
    p   = int q G,   p'  = int q G (-(x - sqrt(a) y)/sigma^2),
    p'' = int q G ((x - sqrt(a) y)^2/sigma^4 - 1/sigma^2),     G = N(x; sqrt(a) y, sigma^2),
    log p,  s* = p'/p,  J* = p''/p - s*^2.
(This is independent of the C++ method, which integrates over the chi-square mixing variable of
the t law.) Every value is computed twice, the second time with extra breakpoints (the interval
midpoints in log scale) and maxdegree 10, and the script stops if they disagree beyond 1e-20
relative. a and 1 - a are the exact doubles printed (the pair need not sum to 1 exactly).

The Cauchy case nu = 1 is also evaluated in closed form (Voigt profile):
    p = Re w(z) / (sigma sqrt(2 pi)),  z = (x + i gamma)/(sigma sqrt 2),  gamma = sqrt(a) s,
    w(z) = exp(-z^2) erfc(-i z) (Faddeeva),  w' = -2 z w + 2 i/sqrt(pi),  w'' = -2 w - 2 z w',
    s* = Re w' / (sigma sqrt2 Re w),  J* = Re w'' / (2 sigma^2 Re w) - s*^2,
and checked against the quadrature here (agreement printed).

Usage: /usr/bin/python3 tests/targets/reference/student_t_reference.py > /tmp/student_t_refs.txt
"""
import sys
from mpmath import mp, mpf, quad, sqrt, pi, gamma, log, exp, erfc, re, inf, nstr, mpc

mp.dps = 90  # 50 and 70 were not enough for J* at a = 1e-8, x = 1e6 (p''/p - s^2 cancels 12 digits)

LEVELS = [(1 - 1e-8, 1e-8), (0.99, 0.01), (0.5, 0.5), (1e-8, 1 - 1e-8)]
XS = [0.0, 0.3, -2.5, 1e3, 1e6]
NUS = [1.0, 2.5, 5.0]


def breakpoints(a, s2, x, scale, refine):
    sa = sqrt(a)
    y0 = mpf(x) / sa
    w = sqrt(s2) / sa
    pts = {mpf(0)}
    for k in range(0, 13):
        pts.add(mpf(10) ** k * scale)
        pts.add(-mpf(10) ** k * scale)
    for c in (0, 1, 3, 10, 40):
        pts.add(y0 + c * w)
        pts.add(y0 - c * w)
    pts = sorted(pts)
    if refine:
        extra = []
        for lo, hi in zip(pts[:-1], pts[1:]):
            extra.append((lo + hi) / 2)
        pts = sorted(set(pts) | set(extra))
    return [-inf] + pts + [inf]


def convolution(nu, s, a, s2, x, refine=False):
    nu, s, a, s2, x = mpf(nu), mpf(s), mpf(a), mpf(s2), mpf(x)
    c = gamma((nu + 1) / 2) / (sqrt(nu * pi) * s * gamma(nu / 2))
    sa, sg = sqrt(a), sqrt(s2)

    def q(y):
        return c * (1 + y * y / (nu * s * s)) ** (-(nu + 1) / 2)

    def G(y):
        r = x - sa * y
        return exp(-r * r / (2 * s2)) / (sqrt(2 * pi) * sg)

    pts = breakpoints(a, s2, x, s, refine)
    kw = dict(maxdegree=10) if refine else {}
    p0 = quad(lambda y: q(y) * G(y), pts, **kw)
    p1 = quad(lambda y: q(y) * G(y) * (-(x - sa * y) / s2), pts, **kw)
    p2 = quad(lambda y: q(y) * G(y) * ((x - sa * y) ** 2 / s2 ** 2 - 1 / s2), pts, **kw)
    score = p1 / p0 if x != 0 else mpf(0)  # exactly 0 by symmetry (quadrature gives ~1e-54)
    return log(p0), score, p2 / p0 - score * score


def voigt(s, a, s2, x):
    a, s2, x, s = mpf(a), mpf(s2), mpf(x), mpf(s)
    sg = sqrt(s2)
    z = mpc(x, sqrt(a) * s) / (sg * sqrt(2))
    w = exp(-z * z) * erfc(-1j * z)
    w1 = -2 * z * w + 2j / sqrt(pi)
    w2 = -2 * w - 2 * z * w1
    p = re(w) / (sg * sqrt(2 * pi))
    score = re(w1) / (sg * sqrt(2) * re(w))
    J = re(w2) / (2 * s2 * re(w)) - score * score
    return log(p), score, J


def rel(u, v):
    return abs(u - v) / max(abs(v), mpf(10) ** -30)  # s*(0) = 0 comes out as ~1e-54


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "quad"
    if mode == "quad":
        for nu in NUS:
            for (a, s2) in LEVELS:
                for x in XS:
                    v1 = convolution(nu, 1.0, a, s2, x)
                    v2 = convolution(nu, 1.0, a, s2, x, refine=True)
                    worst = max(rel(u, v) for u, v in zip(v1, v2))
                    if worst > mpf(10) ** -20:
                        raise SystemExit("quadrature disagreement %s at nu %g a %r x %g" % (nstr(worst, 3), nu, a, x))
                    print("    {%r, %r, %r, %r, %s, %s, %s},  // agree %s" % (
                        nu, a, s2, x, nstr(v1[0], 25), nstr(v1[1], 25), nstr(v1[2], 25), nstr(worst, 2)), flush=True)
    else:  # voigt: Cauchy closed form, s = 1.5, checked against the quadrature
        s = 1.5
        for (a, s2) in [(0.99, 0.01), (0.5, 0.5), (0.1, 0.9)]:
            for x in [0.0, 0.4, -3.0, 20.0, 300.0]:
                v = voigt(s, a, s2, x)
                c = convolution(1.0, s, a, s2, x)
                worst = max(rel(u, w) for u, w in zip(v, c))
                print("    {%r, %r, %r, %s, %s, %s},  // vs quad %s" % (
                    a, s2, x, nstr(v[0], 25), nstr(v[1], 25), nstr(v[2], 25), nstr(worst, 2)), flush=True)


main()
