/** Pure statistics for agentdrift (issue 3). See docs/statistics.md. */
export { wilson, type WilsonInterval } from './wilson.ts';
export { binomialLowerP } from './binomial.ts';
export { fisherLessP, type FisherTable } from './fisher.ts';
export { cmhLess, type CmhOptions, type CmhResult, type TaskTally } from './cmh.ts';
export { holm } from './holm.ts';
export { minimumDetectableDrop } from './mdd.ts';
export {
  DEFAULT_ODDS_RATIO,
  cusumFinal,
  cusumPath,
  cusumStep,
  cusumWeight,
  firstSignal,
  taskBaselineProbability,
  type CusumObservation,
} from './cusum.ts';
export {
  ThresholdCache,
  chooseThreshold,
  simulateInControl,
  type ArlEstimate,
  type InControlOptions,
  type InControlSimulation,
  type ThresholdKey,
  type ThresholdOptions,
  type ThresholdResult,
} from './cusum-threshold.ts';
export {
  baselineTaskProbs,
  trackCusum,
  trackThreshold,
  type TrackAttempt,
  type TrackThresholdOptions,
} from './cusum-track.ts';
export {
  baselineHash,
  baselinePassRate,
  referencePrior,
  taskProbability,
  type Baseline,
  type FixedBaseline,
  type ReferenceBaseline,
  type TaskCount,
} from './baseline.ts';
export { wilcoxonGreater, type WilcoxonResult } from './wilcoxon.ts';
export {
  median,
  usageRatio,
  usageWindows,
  type UsageOptions,
  type UsageResult,
  type UsageTaskValues,
  type UsageWindowInput,
  type UsageWindowResult,
} from './usage.ts';
export {
  behaviourChange,
  behaviourWindows,
  wilcoxonTwoSided,
  type BehaviourOptions,
  type BehaviourResult,
  type BehaviourTaskValues,
  type BehaviourWindowInput,
  type BehaviourWindowResult,
} from './behaviour.ts';
export {
  shareChange,
  shareWindows,
  type ShareDirection,
  type ShareOptions,
  type ShareResult,
  type ShareTaskValues,
  type ShareWindowInput,
  type ShareWindowResult,
} from './share.ts';
export {
  evaluateWindows,
  type WindowOptions,
  type WindowResult,
  type WindowTally,
  type WindowsEvaluation,
} from './windows.ts';
export { createRng, sampleBeta, type Rng } from './rng.ts';
export { UNIFORM_PRIOR, betaBinomialLogLik, fitBetaPrior, priorPosterior, type BetaPrior, type PriorPosterior } from './prior.ts';
export { evaluateGroups, restrictBaseline, type GroupOptions, type GroupResult, type GroupTally } from './groups.ts';
