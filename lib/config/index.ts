export {
  type AlertConfig,
  type ConfigFor,
  type ConfigNeeds,
  loadConfig,
  METRIC_SELECTIONS,
  type MetricSelection,
  POLLER_MODES,
  type PollerConfig,
  type PollerMode,
  type QueueConfig,
  type SlotsyncConfig,
  type StateConfig,
} from "./config";
export type { DriftConfig } from "./drift";
export { type ConfigProblem, type Env, EnvReader } from "./env";
export {
  type ConfigWarning,
  UNREAD_PGSYNC_VARIABLES,
  type UnreadPgsyncGroup,
  unreadPgsyncWarnings,
} from "./pgsync-unread";
export { DEFAULT_SLOT_NAME, slotName } from "./slot";
export {
  CONFIG_SECTIONS,
  CONFIG_VARIABLES,
  type ConfigSection,
  type ConfigVariable,
  configVariable,
  renderConfigReference,
} from "./variables";
