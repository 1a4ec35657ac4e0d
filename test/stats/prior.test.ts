import { describe, expect, it } from 'vitest';
import { betaBinomialLogLik, fitBetaPrior, MIN_TASKS_FOR_PRIOR, UNIFORM_PRIOR, type Tally } from '../../src/stats/prior.ts';
import { referencePrior, taskProbability, type Baseline } from '../../src/stats/index.ts';
import { expectClose, loadFixture } from './fixtures.ts';

interface Case {
  tallies: Tally[];
  probes: { a: number; b: number; logLik: number }[];
  fit: { a: number; b: number; logLik: number };
}

const fixture = loadFixture<Case>('prior');

describe('the Beta prior of a reference period', () => {
  it('computes the beta-binomial log-likelihood as SciPy betabinom does', () => {
    for (const [i, c] of fixture.cases.entries()) {
      for (const p of c.probes) expectClose(betaBinomialLogLik(c.tallies, p), p.logLik, 1e-10, 1e-9, `case ${i} at (${p.a}, ${p.b})`);
    }
  });

  it('finds the maximum-likelihood (a, b) that SciPy finds, to the likelihood and to 1% in a and b', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(8);
    for (const [i, c] of fixture.cases.entries()) {
      const fit = fitBetaPrior(c.tallies);
      const ll = betaBinomialLogLik(c.tallies, fit);
      // never worse than SciPy's optimum, and no better by more than rounding
      expect(ll, `case ${i}`).toBeGreaterThanOrEqual(c.fit.logLik - 1e-6);
      expect(ll, `case ${i}`).toBeLessThanOrEqual(c.fit.logLik + 1e-6);
      expectClose(fit.a, c.fit.a, 0.01, 0, `case ${i} a`);
      expectClose(fit.b, c.fit.b, 0.01, 0, `case ${i} b`);
    }
  });

  it('falls back to the uniform prior with fewer than 10 tasks, and ignores tasks without trials', () => {
    const few = Array.from({ length: MIN_TASKS_FOR_PRIOR - 1 }, (_, i) => ({ passes: i % 3, trials: 14 }));
    expect(fitBetaPrior(few)).toBe(UNIFORM_PRIOR);
    expect(fitBetaPrior([...few, { passes: 0, trials: 0 }])).toBe(UNIFORM_PRIOR);
    expect(fitBetaPrior([...few, { passes: 3, trials: 14 }])).not.toBe(UNIFORM_PRIOR);
  });

  it('stays inside its bounds when every task always fails or always passes', () => {
    for (const passes of [0, 14]) {
      const fit = fitBetaPrior(Array.from({ length: 20 }, () => ({ passes, trials: 14 })));
      const mean = fit.a / (fit.a + fit.b);
      expect(mean).toBeGreaterThanOrEqual(0.005 - 1e-12);
      expect(mean).toBeLessThanOrEqual(0.995 + 1e-12);
      expect(fit.a).toBeGreaterThan(0);
      expect(fit.b).toBeGreaterThan(0);
    }
  });

  it('gives each reference task its posterior mean, and a task absent from it the prior mean', () => {
    const perTask = new Map(Array.from({ length: 20 }, (_, i) => [`t${i}`, { passes: i < 10 ? 0 : 13, trials: 14 }] as const));
    const baseline: Baseline = { kind: 'reference', perTask };
    const prior = referencePrior(baseline);
    expect(referencePrior(baseline)).toBe(prior); // fitted once per reference
    expect(taskProbability(baseline, 't0')).toBeCloseTo(prior.a / (14 + prior.a + prior.b), 12);
    expect(taskProbability(baseline, 't15')).toBeCloseTo((13 + prior.a) / (14 + prior.a + prior.b), 12);
    expect(taskProbability(baseline, 'new')).toBeCloseTo(prior.a / (prior.a + prior.b), 12);
    // A suite of never- and nearly-always-solved tasks is U-shaped: a never-solved task is estimated below the
    // uniform prior's 1/16, which would overstate it.
    expect(prior.a + prior.b).toBeLessThan(2);
    expect(taskProbability(baseline, 't0')).toBeLessThan(1 / 16);
  });
});
