import { redactText } from "../../security";
import { backoffDelay, type SinkRuntime } from "../backoff";
import { SinkError } from "../errors";
import type { EngineInfo, IndexBody } from "../types";
import { describeError, formatError, isRetryableStatus, WRONG_ENGINE_FIX } from "./classify";
import type { ResolvedTuning } from "./config";
import {
  type EngineRequest,
  type EngineResponse,
  type EngineTransport,
  pathName,
  TransportFailure,
} from "./transport";

/** What the index-management calls need. */
export interface AdminContext {
  transport: EngineTransport;
  tuning: ResolvedTuning;
  runtime: SinkRuntime;
}

/**
 * Sends an admin request, retrying network failures and 408/429/502/503/504 with the same
 * backoff as writes. Every admin call here is idempotent (or, for an alias swap, converges to
 * the same state), so resending after a timeout is safe. Returns the last response, whatever its
 * status; throws a retryable `SinkError` if no response ever came.
 */
export async function adminRequest(
  ctx: AdminContext,
  what: string,
  request: Omit<EngineRequest, "timeoutMs">,
): Promise<EngineResponse> {
  const { transport, tuning, runtime } = ctx;
  for (let round = 0; ; round++) {
    try {
      const response = await transport.request({ ...request, timeoutMs: tuning.requestTimeoutMs });
      if (!isRetryableStatus(response.status) || round >= tuning.maxRetries) return response;
    } catch (err) {
      if (!(err instanceof TransportFailure)) throw err;
      if (round >= tuning.maxRetries) {
        throw new SinkError(
          `${what}: the search engine did not answer (${redactText(err.message, transport.secrets)})`,
          {
            retryable: true,
            errorType: err.kind,
            cause: new Error(redactText(err.message, transport.secrets)),
            fix: "check that the cluster is up and reachable from here (URL, security group, VPC endpoint); then retry",
          },
        );
      }
    }
    await runtime.sleep(backoffDelay(round, tuning.baseDelayMs, tuning.maxDelayMs, runtime.random));
  }
}

/** The `SinkError` for an answer an admin call did not expect. */
export function unexpected(ctx: AdminContext, what: string, response: EngineResponse): SinkError {
  const error = describeError(response.body);
  const detail = redactText(formatError(error) || `HTTP ${response.status}`, ctx.transport.secrets);
  const status = response.status;
  const fix =
    status === 401
      ? "check the API key, the user and password, or the AWS role the sink uses"
      : status === 403
        ? "grant the missing privilege named above to the user, API key or AWS role"
        : status === 406
          ? WRONG_ENGINE_FIX
          : error.type === "index_not_found_exception"
            ? "run `slotsync bootstrap` to create the index and its alias, or correct the index name"
            : isRetryableStatus(status) || status >= 500
              ? "the cluster is overloaded or restarting; retry later"
              : "see the engine's reason above";
  return new SinkError(`${what}: HTTP ${status}: ${detail}`, {
    httpStatus: status,
    errorType: error.type,
    retryable: isRetryableStatus(status) || status >= 500,
    fix,
  });
}

/** Creates an index; `created: false` when one of that name already exists. */
export async function createIndex(
  ctx: AdminContext,
  name: string,
  body: IndexBody = {},
): Promise<{ created: boolean }> {
  const what = `create index "${name}"`;
  const response = await adminRequest(ctx, what, { method: "PUT", path: `/${pathName(name)}`, body });
  if (response.status === 200) return { created: true };
  if (describeError(response.body).type === "resource_already_exists_exception") return { created: false };
  throw unexpected(ctx, what, response);
}

/** Deletes one concrete index by exact name; `deleted: false` when there was none. */
export async function deleteIndex(ctx: AdminContext, name: string): Promise<{ deleted: boolean }> {
  const what = `delete index "${name}"`;
  const response = await adminRequest(ctx, what, { method: "DELETE", path: `/${pathName(name)}` });
  if (response.status === 200) return { deleted: true };
  if (response.status === 404) return { deleted: false };
  throw unexpected(ctx, what, response);
}

/** True when an index or alias of that name exists. */
export async function indexExists(ctx: AdminContext, name: string): Promise<boolean> {
  const what = `check index "${name}"`;
  const response = await adminRequest(ctx, what, { method: "HEAD", path: `/${pathName(name)}` });
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw unexpected(ctx, what, response);
}

/** The concrete indices an alias points to; empty when there is no such alias. */
export async function getAliasTargets(ctx: AdminContext, alias: string): Promise<string[]> {
  const what = `read alias "${alias}"`;
  const response = await adminRequest(ctx, what, { method: "GET", path: `/_alias/${pathName(alias)}` });
  if (response.status === 404) return [];
  if (response.status !== 200) throw unexpected(ctx, what, response);
  return Object.keys((response.body ?? {}) as Record<string, unknown>).sort();
}

/**
 * Points `alias` at `index` only, in one atomic `_aliases` call. A concrete index that holds the
 * alias's name (PGSync names its index after the schema's index) blocks the alias; with
 * `replaceIndex` it is deleted in the same atomic call, otherwise the call fails with a fix.
 */
export async function swapAlias(
  ctx: AdminContext,
  alias: string,
  index: string,
  options: { replaceIndex?: boolean } = {},
): Promise<{ previous: string[] }> {
  const what = `point alias "${alias}" at "${index}"`;
  const previous = await getAliasTargets(ctx, alias);
  const actions: Record<string, unknown>[] = [];
  if (previous.length === 0 && (await indexExists(ctx, alias))) {
    if (!options.replaceIndex) {
      throw new SinkError(`${what}: "${alias}" is an index, not an alias`, {
        fix: "pass replaceIndex to delete that index in the same atomic step (after copying it), or pick another alias name",
        errorType: "invalid_alias_name_exception",
      });
    }
    actions.push({ remove_index: { index: alias } });
  }
  for (const old of previous) {
    if (old !== index) actions.push({ remove: { index: old, alias } });
  }
  actions.push({ add: { index, alias } });
  const response = await adminRequest(ctx, what, { method: "POST", path: "/_aliases", body: { actions } });
  if (response.status !== 200) throw unexpected(ctx, what, response);
  return { previous };
}

/** Number of documents in an index or alias, optionally matching a query. */
export async function count(
  ctx: AdminContext,
  index: string,
  query?: Record<string, unknown>,
): Promise<number> {
  const what = `count "${index}"`;
  const response = await adminRequest(ctx, what, {
    method: "POST",
    path: `/${pathName(index)}/_count`,
    body: query ? { query } : {},
  });
  const value = (response.body as { count?: unknown } | undefined)?.count;
  if (response.status !== 200 || typeof value !== "number") throw unexpected(ctx, what, response);
  return value;
}

/** Makes recent writes visible to search. */
export async function refresh(ctx: AdminContext, index: string): Promise<void> {
  const what = `refresh "${index}"`;
  const response = await adminRequest(ctx, what, { method: "POST", path: `/${pathName(index)}/_refresh` });
  if (response.status !== 200) throw unexpected(ctx, what, response);
}

/**
 * Engine kind, version and cluster name, from `GET /`; or from the local node's info where the
 * root endpoint is missing (Elasticsearch ships it as the optional `rest-root` module).
 */
export async function info(ctx: AdminContext): Promise<EngineInfo> {
  const what = "read cluster info";
  const engine = ctx.transport.engine;
  const root = await adminRequest(ctx, what, { method: "GET", path: "/" });
  if (root.status === 200) {
    const body = root.body as { cluster_name?: string; version?: { number?: string } };
    return withCluster({ engine, version: body.version?.number ?? "unknown" }, body.cluster_name);
  }
  if (root.status !== 404 && root.status !== 405) throw unexpected(ctx, what, root);
  const nodes = await adminRequest(ctx, what, {
    method: "GET",
    path: "/_nodes/_local",
    querystring: { filter_path: "cluster_name,nodes.*.version" },
  });
  if (nodes.status !== 200) throw unexpected(ctx, what, nodes);
  const body = nodes.body as { cluster_name?: string; nodes?: Record<string, { version?: string }> };
  const version = Object.values(body.nodes ?? {})[0]?.version ?? "unknown";
  return withCluster({ engine, version }, body.cluster_name);
}

function withCluster(info: EngineInfo, clusterName: string | undefined): EngineInfo {
  return clusterName === undefined ? info : { ...info, clusterName };
}

/** Field names at the top of an index's mappings (`properties`); empty when it has none. */
export async function mappedFields(ctx: AdminContext, index: string): Promise<string[]> {
  const what = `read the mappings of "${index}"`;
  const response = await adminRequest(ctx, what, { method: "GET", path: `/${pathName(index)}/_mapping` });
  if (response.status !== 200) throw unexpected(ctx, what, response);
  const fields = new Set<string>();
  for (const entry of Object.values((response.body ?? {}) as Record<string, { mappings?: unknown }>)) {
    const properties = (entry.mappings as { properties?: Record<string, unknown> } | undefined)?.properties;
    for (const name of Object.keys(properties ?? {})) fields.add(name);
  }
  return [...fields].sort();
}

/**
 * Copies an index with `_clone` (hard links to its segments: quick, no re-indexing). The source
 * is write-blocked for the clone, as the API requires, and unblocked afterwards; the copy loses
 * the block too. Writes to the source during those seconds fail and are retried by their sender.
 */
export async function cloneIndex(ctx: AdminContext, source: string, target: string): Promise<void> {
  const what = `clone "${source}" to "${target}"`;
  const block = async (index: string, on: boolean) => {
    const response = await adminRequest(ctx, what, {
      method: "PUT",
      path: `/${pathName(index)}/_settings`,
      body: { "index.blocks.write": on ? true : null },
    });
    if (response.status !== 200) throw unexpected(ctx, what, response);
  };
  await block(source, true);
  try {
    const response = await adminRequest(ctx, what, {
      method: "POST",
      path: `/${pathName(source)}/_clone/${pathName(target)}`,
      querystring: { wait_for_active_shards: "1" },
    });
    if (response.status !== 200) throw unexpected(ctx, what, response);
    await block(target, false);
  } finally {
    await block(source, false);
  }
}
