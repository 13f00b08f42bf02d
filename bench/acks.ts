/**
 * Commit → acknowledged: when the engine's answer to the `_bulk` request that wrote a marker's
 * document reached the consumer. The benchmark's consumers reach Elasticsearch through a proxy
 * (test/support/http-proxy.ts); this observer looks at the `_bulk` exchanges that carry a tracked
 * marker tag and records, per marker value, when the first successful write of a document holding
 * it was answered.
 */
import type { ExchangeObserver } from "../test/support/http-proxy";

interface BulkItem {
  status?: number;
}

/** The proxy's observer, plus the acknowledgement times it found. */
export class BulkAcks implements ExchangeObserver {
  private readonly tags = new Map<string, RegExp>();
  private readonly acked = new Map<string, number>();

  /** Starts recording acknowledgements of marker values `${tag}-<n>`. */
  track(tag: string): void {
    this.tags.set(tag, new RegExp(`${tag.replace(/[^\w]/g, "\\$&")}-\\d+(?!\\d)`, "g"));
  }

  /** Stops recording `tag` and forgets what was recorded for it. */
  untrack(tag: string): void {
    this.tags.delete(tag);
    for (const value of this.acked.keys()) if (value.startsWith(`${tag}-`)) this.acked.delete(value);
  }

  /** When a write of `value` was first acknowledged (ms since epoch). */
  ackedAt(value: string): number | undefined {
    return this.acked.get(value);
  }

  wants(method: string, path: string, body: Buffer): boolean {
    if (method !== "POST" || !path.split("?")[0]?.endsWith("/_bulk") || this.tags.size === 0) return false;
    for (const tag of this.tags.keys()) if (body.includes(tag)) return true;
    return false;
  }

  seen(exchange: { request: Buffer; response: Buffer; status: number; at: number }): void {
    if (exchange.status !== 200) return;
    let items: Record<string, BulkItem>[];
    try {
      items =
        (JSON.parse(exchange.response.toString("utf8")) as { items?: Record<string, BulkItem>[] }).items ??
        [];
    } catch {
      return;
    }
    const lines = exchange.request.toString("utf8").split("\n");
    let item = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (!line) continue;
      const action = Object.keys(JSON.parse(line) as Record<string, unknown>)[0];
      const result = Object.values(items[item++] ?? {})[0];
      if (action === "delete") continue;
      const source = lines[++i] ?? "";
      // 409: a newer version of the document was written already, which holds the value too.
      const ok = result?.status !== undefined && (result.status < 300 || result.status === 409);
      if (!ok) continue;
      for (const pattern of this.tags.values()) {
        for (const match of source.matchAll(pattern)) {
          if (!this.acked.has(match[0])) this.acked.set(match[0], exchange.at);
        }
      }
    }
  }
}
