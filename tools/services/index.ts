export type { EnsureResult, ServiceStatus } from "./manager";
export {
  ensureServices,
  getServices,
  recordedEndpoints,
  STATE_FILE,
  serviceStatus,
  stopServices,
} from "./manager";
export type { ServiceEndpoints, ServiceName } from "./types";
export { SERVICE_NAMES, ServiceStartError } from "./types";
