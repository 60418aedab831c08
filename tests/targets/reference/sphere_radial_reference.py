#!/usr/bin/env python3
# 50-digit references for the radial functions of targets/sphere (SphereRadialFunctions test in
# tests/targets/sphere_test.cpp; the test does not run this script). Usage:
#   /usr/bin/python3 sphere_radial_reference.py        (needs mpmath)
# With nu = d/2 - 1 and mpmath's besseli at mp.dps = 60 (orders up to 8190.5):
#   L(z)   = log Gamma(nu+1) - nu log(z/2) + log I_nu(z) - z
#   R(z)   = I_{nu+1}(z)/I_nu(z),  R'(z) = 1 - (2 nu + 1) R/z - R^2,  Delta = R' - R/z.
# (The target-level references of sphere_reference.py use quadrature of the definition instead.)
from mpmath import mp, mpf, besseli, loggamma, log, nstr

mp.dps = 60
cases = []
for d in (2, 3, 8, 64, 200, 1001, 16383):
    for z in ('0.5', '3', '19', '25', '150', '1000', '4e4', '1e6', '1e8'):
        if d == 16383 and float(z) > 1e5:
            continue  # mpmath's series would need ~z/2 terms (its large-z expansion needs z >> nu^2)
        cases.append((d, z))
for d, zs in cases:
    nu = mpf(d) / 2 - 1
    z = mpf(zs)
    i0 = besseli(nu, z, maxterms=10**6)
    i1 = besseli(nu + 1, z, maxterms=10**6)
    L = loggamma(nu + 1) - nu * log(z / 2) + log(i0) - z
    R = i1 / i0
    Rp = 1 - (2 * nu + 1) * R / z - R ** 2
    print('    {%d, %s, %s, %s, %s, %s, %s},' % (d, zs, nstr(L, 25), nstr(R, 25), nstr(Rp, 25), nstr(Rp - R / z, 25),
                                          nstr(1 - R, 25)))
