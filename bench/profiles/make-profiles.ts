/**
 * Writes the suite profiles the detector bench ships (bench/profiles/*.json): the true per-task pass probabilities of
 * a pool of 731 candidate tasks (the size of SWE-Bench-Pro's public set), from which `npm run bench stats -- --profile`
 * draws each simulated track's monitored suite. Seeded: the files are a function of this script alone.
 *
 *   node --import tsx bench/profiles/make-profiles.ts           rewrite the files
 *   node --import tsx bench/profiles/make-profiles.ts --check   exit 1 naming any file that differs from the script
 *
 * How each pool is made, and which of it is public fact and which assumed: bench/profiles/README.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRng, sampleBeta, type Rng } from '../../src/stats/index.ts';

/** SWE-Bench-Pro's public set has 731 tasks. */
export const POOL_SIZE = 731;

export interface ProfileFile {
  description: string;
  p: number[];
}

/** Four decimals: enough for a probability, and a readable file (a value below 0.00005 is written as 0). */
const round = (x: number): number => Math.round(x * 1e4) / 1e4;

function betaPool(rng: Rng, a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, () => round(sampleBeta(rng, a, b)));
}

/**
 * A U-shaped pool resembling SWE-Bench-Pro's public set for a strong current agent (mean pass rate about 0.42):
 * - a third of the tasks (244) are solved by no model: half of them (122) are taken as unsolvable as graded
 *   (p = 0), half as nearly so, p ~ Beta(0.5, 25) (mean 0.02);
 * - a cluster solved by nearly every strong model (193 tasks), p ~ Beta(36, 4) (mean 0.90, most within 0.83-0.96);
 * - the rest (294 tasks) spread over the middle, p ~ Beta(1.2, 1.5) (mean 0.44).
 * The tasks are then shuffled, so the pool's order says nothing (the bench samples it at random anyway).
 */
function uShapedPool(rng: Rng): number[] {
  const never = 244;
  const zero = 122;
  const cluster = 193;
  const middle = POOL_SIZE - never - cluster;
  const p: number[] = [];
  for (let i = 0; i < zero; i++) p.push(0);
  for (let i = zero; i < never; i++) p.push(round(sampleBeta(rng, 0.5, 25)));
  for (let i = 0; i < cluster; i++) p.push(round(sampleBeta(rng, 36, 4)));
  for (let i = 0; i < middle; i++) p.push(round(sampleBeta(rng, 1.2, 1.5)));
  for (let i = p.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** The shipped profiles by file name (without .json). */
export function makeProfiles(): Record<string, ProfileFile> {
  return {
    'beta-1.1-0.9': {
      description:
        `${POOL_SIZE} draws from Beta(1.1, 0.9) (mean 0.55), seed 11: the suite the bench simulated before profiles ` +
        '(each track then drew its 50 tasks from the Beta itself)',
      p: betaPool(createRng(11), 1.1, 0.9, POOL_SIZE),
    },
    'beta-0.8-1.2': {
      description:
        `${POOL_SIZE} draws from Beta(0.8, 1.2) (mean 0.40), seed 12: the harder suite the bench's false-page spread ` +
        'used before profiles',
      p: betaPool(createRng(12), 0.8, 1.2, POOL_SIZE),
    },
    'swe-bench-pro-like': {
      description:
        `${POOL_SIZE} tasks, U-shaped like SWE-Bench-Pro's public set: a third solved by no model (half of them at 0), a ` +
        'cluster near 0.85-0.95, the rest spread over the middle; mean about 0.42; seed 13 (bench/profiles/README.md)',
      p: uShapedPool(createRng(13)),
    },
  };
}

/** The file's text: one task per line, so a diff of two versions is readable. */
export function profileText(profile: ProfileFile): string {
  return `{\n  "description": ${JSON.stringify(profile.description)},\n  "p": [\n${profile.p.map((x) => `    ${x}`).join(',\n')}\n  ]\n}\n`;
}

export const PROFILE_DIR = dirname(fileURLToPath(import.meta.url));

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const stale: string[] = [];
  for (const [name, profile] of Object.entries(makeProfiles())) {
    const file = join(PROFILE_DIR, `${name}.json`);
    const text = profileText(profile);
    if (check) {
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // missing: stale
      }
      if (current !== text) stale.push(file);
    } else {
      writeFileSync(file, text);
      const mean = profile.p.reduce((a, v) => a + v, 0) / profile.p.length;
      console.log(`${file}: ${profile.p.length} tasks, mean ${mean.toFixed(3)}`);
    }
  }
  if (stale.length > 0) {
    console.error(`stale profile(s), rewrite with node --import tsx bench/profiles/make-profiles.ts: ${stale.join(', ')}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
