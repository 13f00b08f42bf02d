import { SlotsyncError } from "../errors";

/**
 * An alert could not be delivered to a channel (webhook or EventBridge). The message names the
 * channel and the answer, never the webhook URL: it carries a token.
 */
export class AlertDeliveryError extends SlotsyncError {}
