import { createHash } from "node:crypto";
import { indexNameProblem } from "../schema";
import { BootstrapError } from "./errors";

/**
 * Names of what a bootstrap creates. The schema's index name becomes an alias; each copy fills a
 * concrete index `<index>-<version>` behind it, where the version is the UTC start time to the
 * millisecond (`20260121103000123`): sortable, readable in `_cat/indices`, and new for every copy.
 * The bootstrap id is the concrete index name when it fits the checkpoint store's id rules, so
 * `slotsync status`, the queue messages and the cluster all show the same name.
 */

/** Digits of an index version: `yyyyMMddHHmmssSSS`. */
export const VERSION_DIGITS = 17;
const VERSION_SUFFIX = new RegExp(`-(\\d{${VERSION_DIGITS}})$`);
const STORE_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** The version of a copy started at `at`. */
export function indexVersion(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:TZ.]/g, "")
    .slice(0, VERSION_DIGITS);
}

/** The concrete index a copy of `index` at `version` fills. */
export function concreteIndexName(index: string, version: string): string {
  const name = `${index}-${version}`;
  const problem = indexNameProblem(name);
  if (problem) {
    throw new BootstrapError(`cannot name the concrete index of "${index}": ${problem}`, {
      where: index,
      fix: "shorten the schema's index name (at most 237 bytes leave room for the version suffix)",
    });
  }
  return name;
}

/** The bootstrap id of a copy: the concrete index name, or a hash of the index name plus the version. */
export function bootstrapIdFor(index: string, version: string): string {
  const concrete = `${index}-${version}`;
  if (STORE_ID.test(concrete)) return concrete;
  return `${createHash("sha256").update(index).digest("hex").slice(0, 24)}-${version}`;
}

/** The version a bootstrap id carries; undefined for ids slotsync's bootstrap did not make (e.g. `rebuild-…`). */
export function versionOf(bootstrapId: string): string | undefined {
  return VERSION_SUFFIX.exec(bootstrapId)?.[1];
}

/** The concrete index of a bootstrap of `index`. */
export function concreteIndexOf(index: string, bootstrapId: string): string {
  const version = versionOf(bootstrapId);
  if (!version) {
    throw new BootstrapError(`"${bootstrapId}" is not a slotsync bootstrap id`, { where: index });
  }
  return concreteIndexName(index, version);
}

/**
 * A short, stable hash of an index body: stored with each copy so `status` can tell when the
 * schema's mapping or settings changed since the serving index was built (a re-index is due).
 */
export function bodyHash(body: unknown): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex").slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
