/**
 * The queue between the poller (and bootstrap) and the consumers: the versioned message format,
 * packing keys into few messages, publishing to SQS or an in-process queue, and the consumer-side
 * helpers for Lambda SQS events, partial batch responses and the dead-letter queue.
 */
export { decodeMessage, encodeMessage, rootKey, toSqsJson } from "./codec";
export {
  batchResponse,
  deadLetterFor,
  deadLetterRecords,
  eventFromReceived,
  type InvalidRecord,
  type ParsedRecord,
  parseSqsEvent,
  type RecordSource,
  recordFromSqsMessage,
  type SqsBatchResponse,
  type SqsEvent,
  type SqsRecord,
  type SqsRecordAttribute,
} from "./consumer";
export type { ConsumerQueue } from "./consumer-queue";
export { MessageFormatError, QueueError, type QueueErrorOptions } from "./errors";
export { isLsn, MAX_LSN, parseDecimalLsn } from "./lsn";
export {
  type DeadLetteredMessage,
  MemoryQueue,
  type MemoryQueueOptions,
  type ReceivedMessage,
} from "./memory";
export {
  type KeysMessage,
  type KeyValue,
  MESSAGE_KINDS,
  MESSAGE_VERSION,
  type MessageKind,
  type QueueMessage,
  type RangeMessage,
  type RebuildMessage,
  type RootKey,
  type TruncateMessage,
} from "./message";
export {
  bodyBudget,
  DEFAULT_KEYS_PER_MESSAGE,
  groupBatches,
  type KeysToPack,
  packKeys,
  type QueueLimits,
  resolveLimits,
  type Sized,
  SQS_LIMITS,
  utf8Bytes,
} from "./pack";
export {
  attributeBytes,
  DEAD_LETTER_ATTRIBUTES,
  type DeadLetter,
  type DeadLetterPublisher,
  deadLetterEntry,
  encodeForPublish,
  type KeyPublisher,
  SqsDeadLetterPublisher,
  SqsKeyPublisher,
  type SqsPublisherOptions,
  sqsSafeText,
} from "./publisher";
export {
  type KeptLetter,
  type RedriveOptions,
  type RedriveResult,
  reasonKind,
  redriveDeadLetters,
  redriveKeptLetters,
} from "./redrive";
export { SqsConsumerQueue, type SqsConsumerQueueOptions } from "./sqs-receive";
export {
  DEFAULT_RETRY,
  isRetryableSqsError,
  type OutgoingEntry,
  type RetryEvent,
  type RetryOptions,
  type SqsBatchClient,
  type SqsSendOptions,
  sendEntries,
} from "./sqs-send";
