export {
  type AlertConfig,
  type ConfigFor,
  type ConfigNeeds,
  LATENCY_POLL_INTERVAL_SECONDS,
  loadConfig,
  METRIC_SELECTIONS,
  type MetricSelection,
  type PollerConfig,
  type QueueConfig,
  type SlotsyncConfig,
  type StateConfig,
} from "./config";
export { type Env, EnvReader } from "./env";
export { UNREAD_PGSYNC_VARIABLES, unreadPgsyncWarnings } from "./pgsync-unread";
export { DEFAULT_SLOT_NAME, slotName } from "./slot";
export { CONFIG_SECTIONS, CONFIG_VARIABLES, renderConfigReference } from "./variables";
