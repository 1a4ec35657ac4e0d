import { describe, expect, it } from 'vitest';
import { betaBinomialLogLik, fitBetaPrior, MIN_TASKS_FOR_PRIOR, priorPosterior, UNIFORM_PRIOR, type Tally } from '../../src/stats/prior.ts';
import { createRng } from '../../src/stats/rng.ts';
import { referencePrior, taskProbability, type Baseline } from '../../src/stats/index.ts';
import { expectClose, loadFixture } from './fixtures.ts';

interface Case {
  tallies: Tally[];
  probes: { a: number; b: number; logLik: number }[];
  fit: { a: number; b: number; logLik: number };
  posterior: { muMean: number; muSd: number; logKMean: number; logKSd: number };
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

  it('draws the prior from its posterior under a flat hyperprior, with the moments SciPy integrates', () => {
    const N = 20_000;
    for (const [i, c] of fixture.cases.entries()) {
      const posterior = priorPosterior(c.tallies);
      expect(posterior, `case ${i}`).toBeDefined();
      const rng = createRng(100 + i);
      const mus: number[] = [];
      const logKs: number[] = [];
      for (let n = 0; n < N; n++) {
        const { a, b } = posterior!.draw(rng);
        mus.push(a / (a + b));
        logKs.push(Math.log10(a + b));
      }
      const mean = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;
      const sd = (xs: number[]): number => {
        const m = mean(xs);
        return Math.sqrt(mean(xs.map((v) => (v - m) ** 2)));
      };
      const ref = c.posterior;
      // Monte-Carlo error of 20,000 draws plus the grid's own discretisation (cells of 0.005 and 0.05)
      expect(Math.abs(mean(mus) - ref.muMean), `case ${i} mean mu`).toBeLessThan(4 * (ref.muSd / Math.sqrt(N)) + 0.002);
      expect(Math.abs(mean(logKs) - ref.logKMean), `case ${i} mean log10 k`).toBeLessThan(4 * (ref.logKSd / Math.sqrt(N)) + 0.01);
      expect(sd(mus) / ref.muSd, `case ${i} sd mu`).toBeGreaterThan(0.95);
      expect(sd(mus) / ref.muSd, `case ${i} sd mu`).toBeLessThan(1.05);
      expect(sd(logKs) / ref.logKSd, `case ${i} sd log10 k`).toBeGreaterThan(0.95);
      expect(sd(logKs) / ref.logKSd, `case ${i} sd log10 k`).toBeLessThan(1.05);
    }
    // no fitted prior, no uncertainty about it
    expect(priorPosterior(Array.from({ length: MIN_TASKS_FOR_PRIOR - 1 }, () => ({ passes: 3, trials: 14 })))).toBeUndefined();
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
