export {
  CheckpointPollerState,
  CheckpointReconcileStore,
  handoffMessages,
  QueueHandoffPublisher,
} from "./adapters";
export { builderRefresher } from "./columns";
export { createConsumerDeps } from "./consumer";
export {
  createBuilders,
  createDeadLetterPublisher,
  createKeyPublisher,
  createSqsClient,
  createStateStore,
  openSchema,
  readSchema,
} from "./factory";
export { type ScheduledRun, scheduledRunOptions } from "./poller-run";
