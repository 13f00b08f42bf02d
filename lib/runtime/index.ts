export {
  CheckpointPollerState,
  CheckpointReconcileStore,
  handoffMessages,
  QueueHandoffPublisher,
} from "./adapters";
export { type BuilderRefreshOptions, builderRefresher } from "./columns";
export { type ConsumerWiring, createConsumerDeps } from "./consumer";
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
