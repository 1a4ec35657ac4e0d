// Minimal typing for the parts of jStat 1.9 that src/stats uses. jStat ships no declarations.
declare module 'jstat' {
  interface JStatStatic {
    gammaln(x: number): number;
    betaln(x: number, y: number): number;
    normal: {
      cdf(x: number, mean: number, sd: number): number;
      inv(p: number, mean: number, sd: number): number;
    };
    beta: {
      sample(alpha: number, beta: number): number;
    };
    setRandom(fn: () => number): void;
    _random_fn: () => number;
  }
  const jStat: JStatStatic;
  export default jStat;
}
