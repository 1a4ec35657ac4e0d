#!/usr/bin/python3
"""Independent reference values for src/stats/prior.ts (the Beta prior fitted to a reference period's tallies).

Run with Debian's interpreter (python3-scipy):

    /usr/bin/python3 scripts/gen-prior-fixtures.py            # writes test/fixtures/stats/prior.json

For seeded sets of per-task tallies (passes of trials, tasks drawn from a Beta distribution, trials 14 or mixed),
it writes the beta-binomial log-likelihood at a few (a, b) from scipy.stats.betabinom.logpmf (minus the log binomial
coefficients, which prior.ts leaves out as a constant), the maximum-likelihood (a, b) found by
scipy.optimize.minimize (Nelder-Mead from several starts, on log a and log b) within the same bounds as prior.ts, and
the posterior mean and sd of a / (a + b) and log10(a + b) under a flat hyperprior (numerical integration on a fine
grid), which priorPosterior's draws must reproduce.
"""
import json
import math
import os

import numpy as np
from scipy import optimize, stats

MU_MIN, MU_MAX = 0.005, 0.995
LOG_K_MIN, LOG_K_MAX = -1.5, 3.0


def loglik(tallies, a, b):
    s = 0.0
    for k, n in tallies:
        s += stats.betabinom.logpmf(k, n, a, b) - (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1))
    return s


def fit(tallies):
    def neg(x):
        mu = 1 / (1 + math.exp(-x[0]))
        logk = x[1]
        if not (MU_MIN <= mu <= MU_MAX and LOG_K_MIN <= logk <= LOG_K_MAX):
            return 1e12
        k = 10 ** logk
        return -loglik(tallies, mu * k, (1 - mu) * k)

    best = None
    for mu0 in (0.2, 0.5, 0.8):
        for logk0 in (-1.0, 0.3, 1.5):
            r = optimize.minimize(neg, [math.log(mu0 / (1 - mu0)), logk0], method='Nelder-Mead', options={'xatol': 1e-9, 'fatol': 1e-11, 'maxiter': 4000})
            if best is None or r.fun < best.fun:
                best = r
    mu = 1 / (1 + math.exp(-best.x[0]))
    k = 10 ** best.x[1]
    return mu * k, (1 - mu) * k, -best.fun


def posterior_moments(tallies):
    """Mean and sd of mu = a / (a + b) and log10(a + b) under a flat hyperprior on both within the bounds: the
    beta-binomial likelihood (scipy.stats.betabinom) integrated on a 600 x 450 midpoint grid over the whole box."""
    mus = MU_MIN + (np.arange(600) + 0.5) * (MU_MAX - MU_MIN) / 600
    logks = LOG_K_MIN + (np.arange(450) + 0.5) * (LOG_K_MAX - LOG_K_MIN) / 450
    M, L = np.meshgrid(mus, logks, indexing='ij')
    K = 10.0 ** L
    A, B = M * K, (1 - M) * K
    ll = np.zeros_like(M)
    for k, n in tallies:
        if n > 0:
            ll += stats.betabinom.logpmf(k, n, A, B)
    w = np.exp(ll - ll.max())
    w /= w.sum()
    mu_mean = float((w * M).sum())
    lk_mean = float((w * L).sum())
    return {
        'muMean': mu_mean,
        'muSd': float(math.sqrt((w * (M - mu_mean) ** 2).sum())),
        'logKMean': lk_mean,
        'logKSd': float(math.sqrt((w * (L - lk_mean) ** 2).sum())),
    }


def main():
    rng = np.random.default_rng(20261201)
    cases = []
    for a, b, tasks, mixed in [(1.1, 0.9, 50, False), (0.8, 1.2, 50, False), (0.5, 0.5, 50, False), (3, 5, 50, False), (1.0, 1.0, 200, False), (0.8, 1.2, 30, True), (6, 2, 80, True), (0.3, 1.5, 50, False)]:
        p = rng.beta(a, b, tasks)
        n = rng.integers(5, 30, tasks) if mixed else np.full(tasks, 14)
        k = rng.binomial(n, p)
        tallies = [(int(x), int(y)) for x, y in zip(k, n)]
        fa, fb, fll = fit(tallies)
        probes = [[1.0, 1.0], [a, b], [0.5, 2.0]]
        cases.append({
            'tallies': [{'passes': x, 'trials': y} for x, y in tallies],
            'probes': [{'a': pa, 'b': pb, 'logLik': loglik(tallies, pa, pb)} for pa, pb in probes],
            'fit': {'a': fa, 'b': fb, 'logLik': fll},
            'posterior': posterior_moments(tallies),
        })
    out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'stats', 'prior.json')
    with open(out, 'w') as f:
        json.dump({'generator': 'scripts/gen-prior-fixtures.py', 'cases': cases}, f, indent=1)
        f.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.normpath(out)}')


if __name__ == '__main__':
    main()
