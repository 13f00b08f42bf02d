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
    // This runs beside the pipeline it measures, on the same cores: it reads only the lines that
    // hold a marker not yet acknowledged, and the answer's items only when some item failed.
    const request = exchange.request.toString("utf8");
    const wanted: { value: string; at: number }[] = [];
    for (const pattern of this.tags.values()) {
      for (const match of request.matchAll(pattern)) {
        if (!this.acked.has(match[0])) wanted.push({ value: match[0], at: match.index ?? 0 });
      }
    }
    if (wanted.length === 0) return;
    const response = exchange.response.toString("utf8");
    let items: Record<string, BulkItem>[] | undefined;
    if (!/^\{"errors":false[,}]/.test(response)) {
      try {
        items = (JSON.parse(response) as { items?: Record<string, BulkItem>[] }).items ?? [];
      } catch {
        return;
      }
    }
    wanted.sort((a, b) => a.at - b.at);
    // Walk the lines up to each match, counting items: a delete is one line, any other action two.
    let item = 0;
    let lineStart = 0;
    let next = 0;
    while (next < wanted.length && lineStart < request.length) {
      const actionEnd = request.indexOf("\n", lineStart);
      if (actionEnd === -1) break;
      if (request.startsWith('{"delete"', lineStart)) {
        lineStart = actionEnd + 1;
        item++;
        continue;
      }
      const sourceEnd = request.indexOf("\n", actionEnd + 1);
      const end = sourceEnd === -1 ? request.length : sourceEnd;
      const status = items ? Object.values(items[item] ?? {})[0]?.status : 200;
      // 409: a newer version of the document was written already, which holds the value too.
      const ok = status !== undefined && (status < 300 || status === 409);
      for (; next < wanted.length && (wanted[next]?.at ?? 0) < end; next++) {
        const w = wanted[next];
        if (ok && w && w.at > actionEnd && !this.acked.has(w.value)) this.acked.set(w.value, exchange.at);
      }
      lineStart = end + 1;
      item++;
    }
  }
}
