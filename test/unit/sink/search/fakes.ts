import type { SinkRuntime } from "../../../../lib/sink/backoff";
import { type ResolvedTuning, resolveTuning, type SinkTuning } from "../../../../lib/sink/search/config";
import type { EngineRequest, EngineResponse, EngineTransport } from "../../../../lib/sink/search/transport";

/** One bulk action as the fake engine sees it. */
export interface BulkAction {
  kind: string;
  index: string;
  id: string;
  /** The version exactly as written in the request text. */
  versionText: string;
  source?: unknown;
}

/** Parses a `_bulk` body, keeping the version's digits as text (no rounding). */
export function parseBulkBody(ndjson: string): BulkAction[] {
  const lines = ndjson.split("\n").filter((l) => l !== "");
  const actions: BulkAction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const kind = Object.keys(JSON.parse(line) as object)[0] ?? "";
    const meta = (JSON.parse(line) as Record<string, { _index: string; _id: string }>)[kind];
    const versionText = /"version":(\d+)/.exec(line)?.[1] ?? "";
    const action: BulkAction = { kind, index: meta?._index ?? "", id: meta?._id ?? "", versionText };
    if (kind === "index") action.source = JSON.parse(lines[++i] ?? "null");
    actions.push(action);
  }
  return actions;
}

/** A bulk item answer for an action: `ok` by default. */
export function itemOk(action: BulkAction): Record<string, unknown> {
  return {
    [action.kind]: { _index: action.index, _id: action.id, status: action.kind === "index" ? 201 : 200 },
  };
}

export function itemError(
  action: BulkAction,
  status: number,
  type: string,
  reason = type,
): Record<string, unknown> {
  return { [action.kind]: { _index: action.index, _id: action.id, status, error: { type, reason } } };
}

/** A bulk response whose items are computed per action. */
export function bulkResponse(
  actions: BulkAction[],
  item: (action: BulkAction, position: number) => Record<string, unknown> = itemOk,
): EngineResponse {
  return { status: 200, body: { errors: false, items: actions.map(item) } };
}

export function errorResponse(status: number, type: string, reason = type): EngineResponse {
  return { status, body: { error: { type, reason, root_cause: [{ type, reason }] }, status } };
}

/** A transport whose answers come from `handler`; records every request. */
export class FakeTransport implements EngineTransport {
  readonly engine = "elasticsearch" as const;
  readonly requests: EngineRequest[] = [];
  closed = false;

  constructor(
    private readonly handler: (
      request: EngineRequest,
      bulk: BulkAction[],
      call: number,
    ) => EngineResponse | Error,
    readonly secrets: readonly string[] = [],
  ) {}

  /** The bulk actions of every `_bulk` request sent, one list per request. */
  get bulkRequests(): BulkAction[][] {
    return this.requests.filter((r) => r.path === "/_bulk").map((r) => parseBulkBody(r.ndjson ?? ""));
  }

  async request(request: EngineRequest): Promise<EngineResponse> {
    this.requests.push(request);
    const bulk = request.ndjson === undefined ? [] : parseBulkBody(request.ndjson);
    const answer = this.handler(request, bulk, this.requests.length);
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A clock that only moves when something sleeps (or a test moves it), and a fixed "random". */
export class FakeRuntime implements SinkRuntime {
  readonly sleeps: number[] = [];
  time = 1_000_000;

  constructor(public randomValue = 0.5) {}

  now = (): number => this.time;
  random = (): number => this.randomValue;
  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.time += ms;
  };
}

/** Tuning with defaults, overridden by `overrides`. */
export function tuning(overrides: SinkTuning = {}): ResolvedTuning {
  return resolveTuning(overrides);
}
