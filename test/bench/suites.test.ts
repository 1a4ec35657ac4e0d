/**
 * The detector bench's suites (bench/suites.ts, bench/profiles/): the profile loader's errors, the log-odds drop,
 * the plain random selection, the truth posterior, and the shipped profiles against their generator.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROFILE_DIR, makeProfiles, profileText } from '../../bench/profiles/make-profiles.ts';
import { ProfileError, TruthPosterior, loadProfile, logitDrop, randomSelection } from '../../bench/suites.ts';
import { createRng } from '../../src/stats/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentdrift-bench-profiles-'));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const mean = (xs: readonly number[]): number => xs.reduce((a, v) => a + v, 0) / xs.length;
const logit = (p: number): number => Math.log(p / (1 - p));

describe('loadProfile', () => {
  it('reads a pool and names it after its file', () => {
    const file = write('small-pool.json', JSON.stringify({ description: 'ten tasks', p: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1] }));
    const profile = loadProfile(file, 10);
    expect(profile).toEqual({ name: 'small-pool', file, description: 'ten tasks', p: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1] });
  });

  it.each([
    ['not JSON', '{"p": [0.1, 0.2', /not-json\.json: not JSON/],
    ['a JSON array', '[0.1, 0.2]', /a profile is a JSON object \{"p": \[\.\.\.\]\}, got an array/],
    ['a JSON string', '"p"', /a profile is a JSON object .*got string/],
    ['no p', '{"q": [0.1]}', /no "p" array/],
    ['p not an array', '{"p": 0.5}', /"p" must be an array of probabilities, got number/],
    ['a value above 1', '{"p": [0.1, 1.5, 0.2]}', /every value of "p" must be a number in \[0, 1\]; not so: p\[1\] = 1\.5/],
    ['a negative value', '{"p": [-0.01, 0.2, 0.3]}', /not so: p\[0\] = -0\.01/],
    ['a string and a null', '{"p": ["0.5", null, 0.3]}', /not so: p\[0\] = "0\.5", p\[1\] = null/],
  ])('refuses %s, naming the file and what is wrong', (what, text, message) => {
    const file = write(what === 'not JSON' ? 'not-json.json' : `${what.replace(/\W+/g, '-')}.json`, text);
    expect(() => loadProfile(file, 1)).toThrow(ProfileError);
    expect(() => loadProfile(file, 1)).toThrow(message);
    expect(() => loadProfile(file, 1)).toThrow(file);
  });

  it('counts the bad values beyond the first five', () => {
    const file = write('many-bad.json', JSON.stringify({ p: [2, 2, 2, 2, 2, 2, 2, 0.5] }));
    expect(() => loadProfile(file, 1)).toThrow(/p\[4\] = 2 and 2 more/);
  });

  it('refuses a pool smaller than the suite', () => {
    const file = write('three.json', JSON.stringify({ p: [0.1, 0.5, 0.9] }));
    expect(() => loadProfile(file, 4)).toThrow(/the pool has 3 task\(s\), fewer than the suite size 4/);
    expect(loadProfile(file, 3).p).toHaveLength(3);
  });

  it('refuses a file it cannot read', () => {
    expect(() => loadProfile(join(dir, 'absent.json'), 1)).toThrow(/absent\.json: cannot read the profile/);
  });
});

describe('logitDrop', () => {
  const shipped = loadProfile(join(PROFILE_DIR, 'swe-bench-pro-like.json'), 50).p;
  const suites: [string, number[]][] = [
    ['a spread suite', [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95]],
    ['a suite with tasks at 0 and 1', [0, 0, 0.001, 0.3, 0.6, 0.9, 1]],
    ['the U-shaped pool', shipped],
  ];

  it.each(suites)('%s: the mean falls by exactly the drop, every task by the same log-odds', (_what, probs) => {
    for (const points of [0.05, 0.1, 0.2]) {
      const after = logitDrop(probs, points);
      expect(Math.abs(mean(probs) - mean(after) - points)).toBeLessThan(1e-12);
      const deltas = probs.map((p, i) => logit(p) - logit(after[i]!)).filter(Number.isFinite);
      for (const d of deltas) expect(d).toBeCloseTo(deltas[0]!, 9);
      expect(deltas[0]!).toBeGreaterThan(0);
    }
  });

  it('leaves tasks at 0 at 0 and at 1 at 1; tasks near 0 stay near 0', () => {
    const probs = [0, 0.001, 0.01, 0.5, 0.9, 1];
    const after = logitDrop(probs, 0.2);
    expect(after[0]).toBe(0);
    expect(after[5]).toBe(1);
    expect(after[1]!).toBeLessThan(0.001);
    expect(after[2]!).toBeLessThan(0.01);
    // the points come from the tasks in the middle
    expect(probs[3]! - after[3]!).toBeGreaterThan(0.3);
    const zeros = shipped.filter((p) => p === 0).length;
    expect(zeros).toBeGreaterThan(100);
    expect(logitDrop(shipped, 0.1).filter((p) => p === 0)).toHaveLength(zeros);
  });

  it('refuses a drop the suite cannot make', () => {
    expect(() => logitDrop([0, 0.1, 1], 0.05)).toThrow(/impossible/);
    expect(() => logitDrop([0, 1], 0.01)).toThrow(/impossible/);
    expect(() => logitDrop([0.5], -0.1)).toThrow(/>= 0/);
    expect(logitDrop([0.3, 0.6], 0)).toEqual([0.3, 0.6]);
  });
});

describe('randomSelection', () => {
  it('draws without replacement, reproducibly for a seed, every task equally often', () => {
    const pool = Array.from({ length: 20 }, (_, i) => i / 20);
    const a = randomSelection.select(pool, 8, createRng(5));
    expect(randomSelection.select(pool, 8, createRng(5))).toEqual(a);
    expect(new Set(a.indices).size).toBe(8);
    expect(a.calibrationAttempts).toBe(0);
    const counts = new Array(20).fill(0);
    const rng = createRng(9);
    for (let i = 0; i < 4000; i++) for (const j of randomSelection.select(pool, 5, rng).indices) counts[j]++;
    // each task is chosen with probability 5/20: 1000 of 4000 times, sd about 27
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });
});

describe('TruthPosterior', () => {
  it('weighs the pool by the likelihood of what was observed', () => {
    const pool = [0, 0.5, 0.9];
    const posterior = new TruthPosterior(pool, [
      { passes: 0, trials: 14 },
      { passes: 14, trials: 14 },
      { passes: 7, trials: 14 },
    ]);
    const rng = createRng(3);
    const out = new Float64Array(3);
    const seen = [new Map<number, number>(), new Map<number, number>(), new Map<number, number>()];
    for (let i = 0; i < 2000; i++) {
      posterior.draw(rng, out);
      out.forEach((v, k) => seen[k]!.set(v, (seen[k]!.get(v) ?? 0) + 1));
    }
    // 0 of 14: p = 0 (likelihood 1) against 0.5 (6e-5): nearly always 0; 14 of 14: only 0.5 or 0.9, 0.9 by 4e3 to 1
    expect(seen[0]!.get(0)!).toBeGreaterThan(1990);
    expect(seen[1]!.get(0)).toBeUndefined();
    expect(seen[1]!.get(0.9)!).toBeGreaterThan(1990);
    // 7 of 14: 0.5 against 0.9 by 1 to 3e-5, never 0
    expect(seen[2]!.get(0.5)!).toBeGreaterThan(1990);
    expect(seen[2]!.get(0)).toBeUndefined();
    expect(() => new TruthPosterior([0, 0], [{ passes: 1, trials: 3 }])).toThrow(/no task of the pool/);
  });
});

describe('shipped profiles', () => {
  it('are what bench/profiles/make-profiles.ts writes', () => {
    for (const [name, profile] of Object.entries(makeProfiles())) {
      const file = join(PROFILE_DIR, `${name}.json`);
      expect(readFileSync(file, 'utf8'), `${file} is stale: node --import tsx bench/profiles/make-profiles.ts`).toBe(profileText(profile));
    }
  });

  it('the U-shaped pool has the documented shape', () => {
    const p = loadProfile(join(PROFILE_DIR, 'swe-bench-pro-like.json'), 50).p;
    const share = (f: (x: number) => boolean): number => p.filter(f).length / p.length;
    expect(p).toHaveLength(731);
    expect(mean(p)).toBeGreaterThan(0.4);
    expect(mean(p)).toBeLessThan(0.44);
    expect(share((x) => x < 0.05)).toBeGreaterThan(0.3);
    expect(share((x) => x === 0)).toBeGreaterThan(0.15);
    expect(share((x) => x >= 0.85 && x <= 0.95)).toBeGreaterThan(0.18);
    expect(share((x) => x >= 0.3 && x < 0.6)).toBeLessThan(0.2);
  });
});
