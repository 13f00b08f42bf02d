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
  DEFAULT_SLOT_NAME,
  openSchema,
  readSchema,
  slotName,
} from "./factory";
export { createDocumentSink, type DocumentSinkDependencies } from "./sink";
