export {
  CheckpointPollerState,
  CheckpointReconcileStore,
  handoffMessages,
  QueueHandoffPublisher,
} from "./adapters";
export {
  createBuilders,
  createDeadLetterPublisher,
  createKeyPublisher,
  createSqsClient,
  createStateStore,
  openSchema,
  readSchema,
} from "./factory";
