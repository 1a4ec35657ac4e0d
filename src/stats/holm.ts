/**
 * Holm (1979) step-down adjusted p-values.
 *
 * Sort the m finite p-values ascending, p(1) <= ... <= p(m); the adjusted value is
 *   adj(i) = min(1, max_{j <= i} (m - j + 1) p(j)),
 * so adjusted values are monotone in the raw ones and never exceed 1. Rejecting adj < alpha controls the family-wise
 * error rate at alpha. Same numbers as statsmodels multipletests(method='holm') and R p.adjust(method = "holm").
 *
 * Absent windows: entries that are NaN (no data, no test) are NOT members of the family. They come back NaN and m
 * counts only the finite entries, so an empty window neither costs power nor fakes a result.
 */
export function holm(pValues: readonly number[]): number[] {
  for (const p of pValues) {
    if (!Number.isNaN(p) && !(p >= 0 && p <= 1)) throw new RangeError(`holm: p-values must be in [0, 1] or NaN`);
  }
  const idx = pValues.map((_, i) => i).filter((i) => !Number.isNaN(pValues[i]!));
  idx.sort((i, j) => pValues[i]! - pValues[j]! || i - j);
  const m = idx.length;
  const out = pValues.map(() => NaN);
  let running = 0;
  idx.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pValues[i]!));
    out[i] = running;
  });
  return out;
}
