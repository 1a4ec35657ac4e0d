#!/usr/bin/python3
"""Generate the independent reference values for test/stats from SciPy / statsmodels (and R when present).

Run with Debian's interpreter, which has python3-scipy and python3-statsmodels:

    /usr/bin/python3 scripts/gen-stats-fixtures.py            # writes test/fixtures/stats/*.json

Every case is drawn from a seeded numpy Generator, so the output is reproducible. Edge cases (n = 0, all pass, all
fail, tasks present in one period only, p0 of 0 or 1, Wilcoxon ties and zeros) are added explicitly.

Sources of truth per statistic:
- wilson:   statsmodels.stats.proportion.proportion_confint(method='wilson')
- binomial: scipy.stats.binomtest(k, n, p0, alternative='less')
- fisher:   scipy.stats.fisher_exact(table, alternative='less')
- cmh:      R's mantelhaen.test formula (alternative='less', with and without continuity correction) in numpy, whose
            chi-square is asserted equal to statsmodels StratifiedTable.test_null_odds for every case; when `Rscript`
            is on PATH, every case with >= 2 informative strata is also checked against R's mantelhaen.test itself.
            The pooled fallback uses scipy.stats.fisher_exact.
- holm:     statsmodels.stats.multitest.multipletests(method='holm')
- wilcoxon: scipy.stats.wilcoxon(alternative='greater'), method='exact' (non-zero values, n <= 20, no ties) or
            method='approx', correction=False, zero_method='wilcox'
- mdd:      scipy.optimize.brentq on the documented power equation (a second implementation, not a library value)
- usage / windows: compositions of the above, with numpy medians.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'stats')


def clean(x):
    """JSON-safe: NaN -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return None if math.isnan(x) else x
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def write(name, payload):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + '.json')
    with open(path, 'w') as f:
        json.dump(clean(payload), f, allow_nan=False, separators=(',', ':'))
        f.write('\n')
    print(f'{path}: {len(payload["cases"])} cases')


# ---------------------------------------------------------------- wilson
def gen_wilson():
    rng = np.random.default_rng(101)
    cases = [{'passes': 29, 'n': 50, 'confidence': 0.95}, {'passes': 0, 'n': 0, 'confidence': 0.95}]
    for n in [1, 2, 7, 50, 1500]:
        cases += [{'passes': 0, 'n': n, 'confidence': 0.95}, {'passes': n, 'n': n, 'confidence': 0.95}]
    for _ in range(400):
        n = int(rng.choice([1, 3, 10, 50, 350, 1500, 20000])) if rng.random() < 0.3 else int(rng.integers(1, 2000))
        passes = int(rng.binomial(n, rng.random()))
        conf = float(rng.choice([0.8, 0.9, 0.95, 0.99, 0.999]))
        cases.append({'passes': passes, 'n': n, 'confidence': conf})
    for c in cases:
        if c['n'] == 0:
            c['estimate'] = c['lower'] = c['upper'] = float('nan')
            continue
        lo, hi = proportion_confint(c['passes'], c['n'], alpha=1 - c['confidence'], method='wilson')
        c['estimate'] = c['passes'] / c['n']
        c['lower'], c['upper'] = max(0.0, lo), min(1.0, hi)
    write('wilson', {'source': 'statsmodels proportion_confint(method=wilson), clamped to [0,1]', 'cases': cases})


# ---------------------------------------------------------------- binomial
def gen_binomial():
    rng = np.random.default_rng(202)
    cases = [(29, 50, 0.73), (0, 0, 0.5), (0, 0, 0.0), (0, 0, 1.0)]
    for n in [1, 5, 50, 1500]:
        for p0 in [0.0, 1.0, 0.5]:
            for k in sorted({0, n // 2, n - 1 if n > 1 else 0, n}):
                cases.append((k, n, p0))
    for _ in range(500):
        n = int(rng.integers(1, 1600))
        p0 = float(rng.choice([0.01, 0.55, 0.73, 0.99])) if rng.random() < 0.2 else float(rng.random())
        kind = rng.random()
        if kind < 0.5:  # near the null
            k = int(rng.binomial(n, p0))
        elif kind < 0.85:  # a real drop, small p-values
            k = int(rng.binomial(n, p0 * rng.uniform(0.3, 1.0)))
        else:  # anywhere
            k = int(rng.integers(0, n + 1))
        cases.append((k, n, p0))
    out = []
    for k, n, p0 in cases:
        if n == 0:
            p, src = 1.0, 'definition: no trials, P(X <= 0) = 1'
        else:
            p, src = stats.binomtest(k, n, p0, alternative='less').pvalue, 'binomtest'
        out.append({'S': k, 'N': n, 'p0': p0, 'p': p, 'source': src})
    write('binomial', {'source': 'scipy.stats.binomtest(alternative=less)', 'cases': out})


# ---------------------------------------------------------------- fisher
def gen_fisher():
    rng = np.random.default_rng(303)
    tables = [[0, 0, 0, 0], [5, 0, 7, 0], [0, 5, 0, 7], [3, 4, 0, 0], [10, 0, 0, 10], [0, 10, 10, 0]]
    for _ in range(400):
        n1 = int(rng.integers(1, 1600))
        n2 = int(rng.integers(1, 800))
        pb = float(rng.random())
        pw = pb * float(rng.uniform(0.3, 1.2)) if rng.random() < 0.7 else float(rng.random())
        pw = min(pw, 1.0)
        a = int(rng.binomial(n1, pw))
        c = int(rng.binomial(n2, pb))
        tables.append([a, n1 - a, c, n2 - c])
    cases = []
    for a, b, c, d in tables:
        _, p = stats.fisher_exact([[a, b], [c, d]], alternative='less')
        cases.append({'a': a, 'b': b, 'c': c, 'd': d, 'p': p})
    write('fisher', {'source': 'scipy.stats.fisher_exact(alternative=less)', 'cases': cases})


# ---------------------------------------------------------------- cmh
def cmh_reference(tasks, correct, min_coverage=0.5):
    """The documented decision rules, with R's mantelhaen.test formula for the CMH part."""
    wt = sum(t['windowTrials'] for t in tasks)
    wp = sum(t['windowPasses'] for t in tasks)
    bt = sum(t['baseTrials'] for t in tasks)
    bp = sum(t['basePasses'] for t in tasks)
    matched = [t for t in tasks if t['windowTrials'] > 0 and t['baseTrials'] > 0]
    if wt == 0 or bt == 0:
        return {'method': 'none', 'p': float('nan'), 'strata': 0, 'n': 0}
    coverage = sum(t['windowTrials'] for t in matched) / wt
    if coverage < min_coverage:
        _, p = stats.fisher_exact([[wp, wt - wp], [bp, bt - bp]], alternative='less')
        return {'method': 'fisher', 'p': p, 'strata': 0, 'n': wt, 'coverage': coverage}
    a = np.array([t['windowPasses'] for t in matched], dtype=float)
    n1 = np.array([t['windowTrials'] for t in matched], dtype=float)
    m1 = np.array([t['windowPasses'] + t['basePasses'] for t in matched], dtype=float)
    T = np.array([t['windowTrials'] + t['baseTrials'] for t in matched], dtype=float)
    var = n1 * (T - n1) * m1 * (T - m1) / (T ** 2 * (T - 1))
    keep = var > 0
    n_used = int(n1.sum())
    if not keep.any():
        return {'method': 'cmh', 'p': 1.0, 'strata': 0, 'n': n_used, 'coverage': coverage}
    delta = float(np.sum(a[keep] - n1[keep] * m1[keep] / T[keep]))
    V = float(np.sum(var[keep]))
    yates = 0.5 if (correct and abs(delta) >= 0.5) else 0.0
    stat = (abs(delta) - yates) ** 2 / V
    z = math.copysign(math.sqrt(stat), delta) if delta != 0 else 0.0
    p = stats.norm.cdf(z)
    # Cross-check the chi-square with statsmodels (its correction subtracts 0.5 unconditionally).
    tables = np.array([[[t['windowPasses'], t['windowTrials'] - t['windowPasses']],
                        [t['basePasses'], t['baseTrials'] - t['basePasses']]] for i, t in enumerate(matched) if keep[i]],
                      dtype=float).transpose(1, 2, 0)
    st = StratifiedTable(tables)
    sm = st.test_null_odds(correction=(yates == 0.5))
    assert math.isclose(sm.statistic, stat, rel_tol=1e-9, abs_tol=1e-12), (sm.statistic, stat)
    # statsmodels computes 1 - chi2.cdf, exact only to ~1e-16 absolute
    assert math.isclose(sm.pvalue, stats.chi2.sf(stat, 1), rel_tol=1e-9, abs_tol=1e-14)
    return {'method': 'cmh', 'p': p, 'strata': int(keep.sum()), 'n': n_used, 'coverage': coverage, 'z': z,
            '_r_tables': tables, '_delta': delta}


def random_cmh_case(rng):
    K = int(rng.integers(1, 41))
    shift = float(rng.choice([0.0, 0.0, -0.5, -1.0, -2.0, 0.5]))
    # one case in five has many window-only tasks, so the coverage rule (Fisher fallback) is exercised
    p_both, p_window = (0.35, 0.5) if rng.random() < 0.2 else (0.8, 0.1)
    tasks = []
    for i in range(K):
        u = rng.random()
        presence = 'both' if u < p_both else ('window' if u < p_both + p_window else 'base')
        kind = rng.random()
        if kind < 0.15:
            p = 1.0
        elif kind < 0.3:
            p = 0.0
        else:
            p = float(rng.beta(1.1, 0.9))
        logit = math.log(p / (1 - p)) if 0 < p < 1 else None
        pw = p if logit is None else 1 / (1 + math.exp(-(logit + shift)))
        wt = int(rng.integers(1, 31)) if presence != 'base' else 0
        bt = int(rng.integers(1, 21)) if presence != 'window' else 0
        tasks.append({'task': f't{i}', 'windowPasses': int(rng.binomial(wt, pw)), 'windowTrials': wt,
                      'basePasses': int(rng.binomial(bt, p)), 'baseTrials': bt})
    return tasks


def gen_cmh():
    rng = np.random.default_rng(404)
    T = lambda wp, wt, bp, bt, i=0: {'task': f'e{i}', 'windowPasses': wp, 'windowTrials': wt, 'basePasses': bp,
                                     'baseTrials': bt}
    cases = [
        [],                                                                  # nothing at all
        [T(0, 0, 5, 10)],                                                    # empty window
        [T(3, 5, 0, 0)],                                                     # no baseline at all
        [T(5, 5, 10, 10, 1), T(0, 4, 0, 8, 2)],                              # only zero-variance strata
        [T(3, 10, 0, 0, 1), T(4, 10, 0, 0, 2), T(2, 3, 8, 10, 3)],           # coverage < 0.5 -> Fisher
        [T(3, 10, 0, 0, 1), T(2, 10, 8, 10, 2)],                             # coverage = 0.5 -> CMH
        [T(0, 10, 9, 10, 1), T(0, 10, 7, 10, 2), T(0, 0, 5, 5, 3)],          # all fail in window, base-only task
        [T(10, 10, 3, 10, 1), T(10, 10, 2, 10, 2)],                          # all pass in window
        [T(1, 2, 1, 1, 1), T(0, 1, 1, 1, 2)],                                # tiny strata
    ]
    for _ in range(360):
        cases.append(random_cmh_case(rng))
    out, r_jobs = [], []
    for i, tasks in enumerate(cases):
        expected = {}
        for correct in (True, False):
            ref = cmh_reference(tasks, correct)
            if correct and ref['method'] == 'cmh' and '_r_tables' in ref and ref['_r_tables'].shape[2] >= 2:
                r_jobs.append((i, ref['_r_tables']))
            expected['corrected' if correct else 'uncorrected'] = {k: v for k, v in ref.items() if not k.startswith('_')}
        # compact: one [windowPasses, windowTrials, basePasses, baseTrials] row per task
        rows = [[t['windowPasses'], t['windowTrials'], t['basePasses'], t['baseTrials']] for t in tasks]
        out.append({'tasks': rows, **expected})
    r_checked = r_check_cmh(out, r_jobs)
    write('cmh', {'source': "R mantelhaen.test(alternative='less') formula in numpy, chi-square asserted equal to "
                            "statsmodels StratifiedTable; Fisher fallback scipy.stats.fisher_exact",
                  'rChecked': r_checked, 'cases': out})


def r_check_cmh(out, jobs):
    """If Rscript exists, compare every informative multi-stratum case with R's own mantelhaen.test."""
    rscript = shutil.which('Rscript')
    if not rscript or not jobs:
        print('Rscript not found: CMH cross-checked against statsmodels only', file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, 'tables.txt')
        with open(data, 'w') as f:
            for i, tab in jobs:
                f.write(' '.join([str(i), str(tab.shape[2])] + [str(int(v)) for v in tab.flatten(order='F')]) + '\n')
        script = ('for (line in readLines(commandArgs(TRUE)[1])) { v <- as.numeric(strsplit(line, " ")[[1]]); '
                  'x <- array(v[-(1:2)], dim = c(2, 2, v[2])); '
                  'a <- mantelhaen.test(x, alternative = "less", correct = TRUE)$p.value; '
                  'b <- mantelhaen.test(x, alternative = "less", correct = FALSE)$p.value; '
                  'cat(v[1], sprintf("%.17g", a), sprintf("%.17g", b), "\\n") }')
        res = subprocess.run([rscript, '-e', script, data], capture_output=True, text=True, check=True)
    n = 0
    for line in res.stdout.split('\n'):
        if not line.strip():
            continue
        i, a, b = line.split()
        i = int(i)
        for key, rv in (('corrected', float(a)), ('uncorrected', float(b))):
            mine = out[i][key]['p']
            assert math.isclose(mine, rv, rel_tol=1e-9, abs_tol=1e-15), (i, key, mine, rv)
        n += 1
    print(f'cmh: {n} cases agree with R mantelhaen.test', file=sys.stderr)
    return n


# ---------------------------------------------------------------- holm
def holm_reference(ps):
    finite = [i for i, p in enumerate(ps) if not math.isnan(p)]
    out = [float('nan')] * len(ps)
    if finite:
        adj = multipletests([ps[i] for i in finite], method='holm')[1]
        for i, a in zip(finite, adj):
            out[i] = float(a)
    return out


def gen_holm():
    rng = np.random.default_rng(505)
    cases = [[0.01, 0.04, 0.03], [], [float('nan')], [0.2, float('nan'), 0.001], [1.0, 1.0], [0.0, 0.5, 0.0],
             [0.02, 0.02, 0.02], [float('nan'), float('nan'), 0.004]]
    for _ in range(400):
        m = int(rng.integers(1, 9))
        ps = list(rng.beta(0.3, 1.0, size=m))
        if rng.random() < 0.2:
            ps = [round(p, 2) for p in ps]  # ties
        if rng.random() < 0.2:
            ps[int(rng.integers(0, m))] = float('nan')
        cases.append([float(p) for p in ps])
    write('holm', {'source': 'statsmodels multipletests(method=holm) on the finite entries; NaN entries excluded',
                   'cases': [{'p': ps, 'adjusted': holm_reference(ps)} for ps in cases]})


# ---------------------------------------------------------------- wilcoxon
def wilcoxon_reference(values):
    d = np.asarray(values, dtype=float)
    nz = d[d != 0]
    if len(nz) == 0:
        return {'p': float('nan'), 'method': 'none', 'n': 0, 'statistic': float('nan')}
    ties = len(np.unique(np.abs(nz))) < len(nz)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        if len(nz) <= 20 and not ties:
            r = stats.wilcoxon(nz, alternative='greater', method='exact')
            method = 'exact'
        else:
            r = stats.wilcoxon(d, alternative='greater', method='approx', correction=False, zero_method='wilcox')
            method = 'approx'
    return {'p': float(r.pvalue), 'method': method, 'n': int(len(nz)), 'statistic': float(r.statistic)}


def gen_wilcoxon():
    rng = np.random.default_rng(606)
    cases = [[], [0.0, 0.0], [0.3], [-0.3], [1.0, 2.0, 3.0], [-1.0, 2.0, -3.0, 4.0, 5.0],
             [0.5, -0.5, 0.5, 0.0, 1.0], [0.1] * 25, list(np.arange(1, 21) * 0.1), list(-np.arange(1, 22) * 0.1)]
    for _ in range(450):
        n = int(rng.integers(1, 61))
        shift = float(rng.choice([0.0, 0.0, 0.2, 0.5, -0.3]))
        x = rng.normal(shift, 0.5, size=n)
        kind = rng.random()
        if kind < 0.25:
            x = np.round(x, 1)  # ties, and zeros where it rounds to 0
        elif kind < 0.35:
            x[rng.random(n) < 0.3] = 0.0  # explicit zeros, no other ties
        cases.append([float(f'{v:.6g}') for v in x])
    write('wilcoxon', {'source': 'scipy.stats.wilcoxon(alternative=greater): exact on the non-zero values when n <= 20 '
                                 'and no ties, else approx with correction=False, zero_method=wilcox',
                       'cases': [{'values': v, **wilcoxon_reference(v)} for v in cases]})


# ---------------------------------------------------------------- mdd
def mdd_reference(n, p0, alpha, power):
    if n == 0:
        return float('nan')
    if p0 == 0:
        return float('inf')
    za, zb = stats.norm.ppf(1 - alpha), stats.norm.ppf(power)
    f = lambda d: math.sqrt(n) * d - za * math.sqrt(p0 * (1 - p0)) - zb * math.sqrt(max(0.0, (p0 - d) * (1 - p0 + d)))
    grid = np.linspace(0, p0, 20001)[1:]
    vals = (math.sqrt(n) * grid - za * math.sqrt(p0 * (1 - p0))
            - zb * np.sqrt(np.maximum(0.0, (p0 - grid) * (1 - p0 + grid))))
    idx = np.nonzero(vals >= 0)[0]
    if len(idx) == 0:
        return float('inf')
    j = idx[0]
    lo = 0.0 if j == 0 else grid[j - 1]
    return optimize.brentq(f, lo, grid[j], xtol=1e-14) if f(lo) < 0 else lo


def gen_mdd():
    rng = np.random.default_rng(707)
    cases = [(0, 0.5, 0.05, 0.8), (50, 0.0, 0.05, 0.8), (50, 1.0, 0.05, 0.8), (1, 0.55, 0.01, 0.8),
             (50, 0.73, 0.05, 0.8), (350, 0.55, 0.01 / 3, 0.8), (1500, 0.55, 0.01 / 3, 0.8)]
    for _ in range(200):
        n = int(rng.choice([1, 2, 5, 10, 50, 350, 1500, 5000])) if rng.random() < 0.5 else int(rng.integers(1, 3000))
        p0 = float(rng.random())
        alpha = float(rng.choice([0.05, 0.01, 0.01 / 3, 0.001]))
        power = float(rng.choice([0.8, 0.8, 0.9, 0.5]))
        cases.append((n, p0, alpha, power))
    out = []
    for n, p0, alpha, power in cases:
        d = mdd_reference(n, p0, alpha, power)
        out.append({'n': n, 'p0': p0, 'alpha': alpha, 'power': power,
                    'mdd': 'Infinity' if d == float('inf') else d})
    write('mdd', {'source': 'scipy.optimize.brentq on sqrt(n) d = z_(1-alpha) sqrt(p0 q0) + z_power sqrt(p1 q1), '
                            'smallest root on a 20000-point grid', 'cases': out})


# ---------------------------------------------------------------- usage
def gen_usage():
    rng = np.random.default_rng(808)
    cases = []
    for i in range(150):
        K = int(rng.integers(0, 45))
        factor = float(rng.choice([1.0, 1.0, 1.1, 1.3, 2.0, 0.8]))
        tasks = []
        for _ in range(K):
            level = float(rng.lognormal(0, 1))
            nb = int(rng.integers(0, 15))
            nw = int(rng.integers(0, 8))
            integer = rng.random() < 0.3
            draw = lambda f, m: [float(f'{v:.5g}') for v in (np.round(level * 10 * f * rng.lognormal(0, 0.3, m))
                                                             if integer else level * f * rng.lognormal(0, 0.3, m))]
            base, win = draw(1.0, nb), draw(factor, nw)
            if rng.random() < 0.05 and win:
                win[0] = 0.0
            tasks.append({'window': win, 'baseline': base})
        logs, dropped = [], 0
        for t in tasks:
            w = float(np.median(t['window'])) if t['window'] else float('nan')
            b = float(np.median(t['baseline'])) if t['baseline'] else float('nan')
            if not (w > 0 and b > 0):
                dropped += 1
                continue
            logs.append(math.log(w / b))
        ref = wilcoxon_reference(logs)
        ratio = math.exp(float(np.mean(logs))) if logs else float('nan')
        cases.append({'tasks': tasks, 'ratio': ratio, 'p': ref['p'], 'n': len(logs), 'dropped': dropped})
    write('usage', {'source': 'numpy medians, log ratios, scipy.stats.wilcoxon as in wilcoxon.json', 'cases': cases})


# ---------------------------------------------------------------- windows
def gen_windows():
    rng = np.random.default_rng(909)
    cases = []
    for i in range(120):
        K = int(rng.integers(5, 60))
        probs = rng.beta(1.1, 0.9, size=K)
        shift = float(rng.choice([0.0, 0.0, -0.05, -0.1, -0.2]))
        fixed = rng.random() < 0.4
        base = {f't{k}': {'passes': int(rng.binomial(14, probs[k])), 'trials': 14} for k in range(K)
                if rng.random() < 0.95}
        compact = lambda per: {t: [c['passes'], c['trials']] for t, c in per.items()}
        windows = []
        for label, days in (('1d', 1), ('7d', 7), ('30d', 30)):
            per = {}
            if not (label == '1d' and rng.random() < 0.1):  # sometimes an empty 1d window
                for k in range(K):
                    if rng.random() < 0.9:
                        per[f't{k}'] = {'passes': int(rng.binomial(days, min(1, max(0, probs[k] + shift)))),
                                        'trials': days}
            windows.append({'window': label, 'perTask': per})
        p0 = float(np.mean(probs))
        ps, methods = [], []
        for w in windows:
            n = sum(c['trials'] for c in w['perTask'].values())
            s = sum(c['passes'] for c in w['perTask'].values())
            if fixed:
                if n == 0:
                    ps.append(float('nan')); methods.append('none')
                else:
                    ps.append(stats.binomtest(s, n, p0, alternative='less').pvalue); methods.append('binomial')
            else:
                ids = sorted(set(w['perTask']) | set(base))
                tasks = [{'windowPasses': w['perTask'].get(t, {'passes': 0})['passes'],
                          'windowTrials': w['perTask'].get(t, {'trials': 0})['trials'],
                          'basePasses': base.get(t, {'passes': 0})['passes'],
                          'baseTrials': base.get(t, {'trials': 0})['trials']} for t in ids]
                ref = cmh_reference(tasks, True)
                ps.append(ref['p']); methods.append(ref['method'])
        adj = holm_reference(ps)
        # perTask maps are written compactly as {task: [passes, trials]}
        cases.append({'baseline': {'kind': 'fixed', 'p0': p0} if fixed else {'kind': 'reference',
                                                                              'perTask': compact(base)},
                      'windows': [{'window': w['window'], 'perTask': compact(w['perTask'])} for w in windows], 'alpha': 0.01, 'p': ps, 'pAdjusted': adj, 'method': methods,
                      'significant': [bool(a < 0.01) if not math.isnan(a) else False for a in adj]})
    write('windows', {'source': 'binomtest / R-formula CMH / fisher_exact, then multipletests(holm) on tested windows',
                      'cases': cases})


if __name__ == '__main__':
    print(f'numpy {np.__version__}, scipy {__import__("scipy").__version__}, '
          f'statsmodels {__import__("statsmodels").__version__}', file=sys.stderr)
    gen_wilson()
    gen_binomial()
    gen_fisher()
    gen_cmh()
    gen_holm()
    gen_wilcoxon()
    gen_mdd()
    gen_usage()
    gen_windows()
