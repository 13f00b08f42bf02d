export { builtSource, canonicalJson } from "./compare";
export { ReconcileError } from "./errors";
export { keyCandidates } from "./ids";
export { buildTolerant, judgeIds } from "./judge";
export { documentOperation } from "./operation";
export { freshProgress, reconcileSlice } from "./reconcile";
export {
  DEFAULT_RECONCILE_OPTIONS,
  type ReconcileConnection,
  type ReconcileCounts,
  type ReconcileDeps,
  type ReconcileJob,
  type ReconcileMode,
  type ReconcileOptions,
  type ReconcileProgress,
  type ReconcileProgressStore,
  type ReconcileSliceResult,
} from "./types";
export {
  type VerifyDeps,
  type VerifyFinding,
  type VerifyOptions,
  type VerifyReport,
  verifyIndex,
} from "./verify";
