export { canonicalJson } from "./compare";
export { keyCandidates } from "./ids";
export { documentOperation } from "./operation";
export { reconcileSlice } from "./reconcile";
export {
  DEFAULT_RECONCILE_OPTIONS,
  type ReconcileConnection,
  type ReconcileMode,
  type ReconcileProgress,
  type ReconcileProgressStore,
} from "./types";
export { type VerifyReport, verifyIndex } from "./verify";
