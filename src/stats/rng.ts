/**
 * Small seeded pseudo-random generator: xoshiro128** (Blackman & Vigna 2018), state seeded by splitmix32.
 * Period 2^128 - 1, 32-bit outputs; plenty for Monte-Carlo threshold search and the bench. Not cryptographic.
 */
import jStat from 'jstat';

export interface Rng {
  /** Uniform double in [0, 1) with 32 random bits. */
  next(): number;
  /** Fill `out` with successive next() values (same sequence, without a call per number). */
  fill(out: Float64Array): void;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A seeded xoshiro128** generator. The same seed always gives the same sequence. */
export function createRng(seed: number): Rng {
  const sm = splitmix32(Math.floor(seed) >>> 0);
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  if ((a | b | c | d) === 0) a = 1;
  return {
    next(): number {
      const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      return r / 4294967296;
    },
    fill(out: Float64Array): void {
      let sa = a;
      let sb = b;
      let sc = c;
      let sd = d;
      for (let i = 0; i < out.length; i++) {
        const x = Math.imul(sb, 5);
        const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
        const t = sb << 9;
        sc ^= sa;
        sd ^= sb;
        sb ^= sc;
        sa ^= sd;
        sc ^= t;
        sd = (sd << 11) | (sd >>> 21);
        out[i] = r / 4294967296;
      }
      a = sa;
      b = sb;
      c = sc;
      d = sd;
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Draw from Beta(alpha, beta) with jStat's sampler driven by `rng` (jStat's random source is swapped in for the
 * duration of the call and restored afterwards, so the draw is reproducible from the seed).
 */
export function sampleBeta(rng: Rng, alpha: number, beta: number): number {
  const saved = jStat._random_fn;
  jStat.setRandom(() => rng.next());
  try {
    return jStat.beta.sample(alpha, beta);
  } finally {
    jStat.setRandom(saved);
  }
}
