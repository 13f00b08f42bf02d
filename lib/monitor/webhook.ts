import { setTimeout as delay } from "node:timers/promises";
import { redactUrlsIn } from "../security";
import { AlertDeliveryError } from "./errors";
import { detectWebhookFormat, type WebhookFormat, webhookPayload } from "./payloads";
import type { WalAlert } from "./types";

/** A place alerts go. */
export interface AlertNotifier {
  /** Names the channel in reports and logs (`webhook:discord`, `eventbridge:default`); never a URL. */
  readonly channel: string;
  /** Delivers one alert; throws {@link AlertDeliveryError} when it could not. */
  notify(alert: WalAlert): Promise<void>;
}

export interface WebhookNotifierOptions {
  /** `ALERT_WEBHOOK_URL`: a secret (it carries the token), never logged or put in an error. */
  url: string;
  /** `ALERT_WEBHOOK_FORMAT`; detected from the URL when absent. */
  format?: WebhookFormat;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Attempts in all, first included (default 5). */
  maxAttempts?: number;
  /** First backoff on 5xx and network errors (default 1 s), doubling, full jitter. */
  baseDelayMs?: number;
  /** Longest single wait, also for a server's retry_after (default 30 s: a Lambda has minutes). */
  maxDelayMs?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
}

/**
 * Posts alerts to a webhook in the receiver's own format (Discord, Slack or plain JSON). Retries
 * 429 after the wait the receiver asks for (Discord's `retry_after`, or `Retry-After`), and 5xx and
 * network failures with exponential backoff; any other answer fails at once.
 */
export class WebhookNotifier implements AlertNotifier {
  readonly format: WebhookFormat;
  readonly channel: string;
  readonly #url: string;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;

  constructor(options: WebhookNotifierOptions) {
    this.#url = options.url;
    this.format = options.format ?? detectWebhookFormat(options.url);
    this.channel = `webhook:${this.format}`;
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? (async (ms) => void (await delay(ms)));
    this.#random = options.random ?? Math.random;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#baseDelayMs = options.baseDelayMs ?? 1000;
    this.#maxDelayMs = options.maxDelayMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async notify(alert: WalAlert): Promise<void> {
    const body = JSON.stringify(webhookPayload(this.format, alert));
    let last = "";
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      let wait: number;
      try {
        const response = await this.#fetch(this.#url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "slotsync-monitor" },
          body,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        if (response.ok) {
          await response.body?.cancel().catch(() => undefined);
          return;
        }
        const text = this.#redact(await response.text().catch(() => ""));
        last = `answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
        if (response.status === 429) wait = retryAfterMs(response, text) ?? this.#backoff(attempt);
        else if (response.status >= 500) wait = this.#backoff(attempt);
        else throw this.#error(last, false);
      } catch (error) {
        if (error instanceof AlertDeliveryError) throw error;
        last = `could not be reached (${reason(error)})`;
        wait = this.#backoff(attempt);
      }
      if (attempt + 1 < this.#maxAttempts) await this.#sleep(Math.min(wait, this.#maxDelayMs));
    }
    throw this.#error(`${last}; gave up after ${this.#maxAttempts} attempts`, true);
  }

  #backoff(attempt: number): number {
    return Math.floor(this.#random() * Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** attempt));
  }

  /** A receiver may echo the request line; the URL must not reach a log through it. */
  #redact(text: string): string {
    let path = "";
    try {
      path = new URL(this.#url).pathname;
    } catch {
      // Not a URL: nothing but the whole string to hide.
    }
    let out = text.split(this.#url).join("<ALERT_WEBHOOK_URL>");
    if (path.length > 1) out = out.split(path).join("<path>");
    return redactUrlsIn(out).replace(/\s+/g, " ").trim();
  }

  #error(detail: string, retryable: boolean): AlertDeliveryError {
    return new AlertDeliveryError(`the ${this.format} webhook ${detail}`, {
      where: "ALERT_WEBHOOK_URL",
      retryable,
      fix: retryable
        ? "the receiver is unavailable or rate-limiting; the alert is retried at the next check"
        : "check ALERT_WEBHOOK_URL (deleted webhook, wrong URL) and ALERT_WEBHOOK_FORMAT",
    });
  }
}

/** Discord puts the wait in the body (`retry_after`, seconds); everyone may send `Retry-After`. */
function retryAfterMs(response: Response, text: string): number | undefined {
  try {
    const body = JSON.parse(text) as { retry_after?: unknown };
    if (typeof body.retry_after === "number" && body.retry_after >= 0)
      return Math.ceil(body.retry_after * 1000);
  } catch {
    // Not JSON: try the header.
  }
  const header = response.headers.get("retry-after");
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The class of a network failure, without its message (which may contain the URL). */
function reason(error: unknown): string {
  const e = error as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return "timed out";
  return e?.cause?.code ?? e?.code ?? e?.name ?? "network error";
}
