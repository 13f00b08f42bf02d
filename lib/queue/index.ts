/**
 * The queue between the poller (and bootstrap) and the consumers: the versioned message format,
 * packing keys into few messages, publishing to SQS or an in-process queue, and the consumer-side
 * helpers for Lambda SQS events, partial batch responses and the dead-letter queue.
 */
export { decodeMessage, encodeMessage } from "./codec";
export {
  batchResponse,
  deadLetterFor,
  deadLetterRecords,
  eventFromReceived,
  type ParsedRecord,
  parseSqsEvent,
  recordFromSqsMessage,
  type SqsBatchResponse,
  type SqsEvent,
  type SqsRecord,
} from "./consumer";
export type { ConsumerQueue } from "./consumer-queue";
export { MessageFormatError, QueueError } from "./errors";
export { MAX_LSN, parseDecimalLsn } from "./lsn";
export { MemoryQueue, type ReceivedMessage } from "./memory";
export type {
  KeysMessage,
  QueueMessage,
  RangeMessage,
  RebuildMessage,
  RootKey,
  TruncateMessage,
} from "./message";
export {
  bodyBudget,
  DEFAULT_KEYS_PER_MESSAGE,
  groupBatches,
  packKeys,
  resolveLimits,
  SQS_LIMITS,
  utf8Bytes,
} from "./pack";
export {
  DEAD_LETTER_ATTRIBUTES,
  type DeadLetter,
  deadLetterEntry,
  type KeyPublisher,
  SqsDeadLetterPublisher,
  SqsKeyPublisher,
} from "./publisher";
export { type RedriveResult, redriveDeadLetters, redriveKeptLetters } from "./redrive";
export { SqsConsumerQueue } from "./sqs-receive";
export type { RetryEvent, SqsBatchClient } from "./sqs-send";
