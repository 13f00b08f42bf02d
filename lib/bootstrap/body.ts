import { buildIndexBody } from "../document";
import type { IndexSpec } from "../schema";
import { type IndexBody, TOMBSTONE_INDEX_SETTINGS } from "../sink";

/**
 * The create-index body of a copy: the schema's settings and mappings, plus the tombstone
 * retention versioned deletes rely on (`index.gc_deletes`, unless the schema sets its own).
 */
export function copyIndexBody(spec: IndexSpec): IndexBody {
  const body = buildIndexBody(spec);
  const settings = { ...(body.settings ?? {}) } as Record<string, unknown>;
  const index = { ...((settings.index as Record<string, unknown> | undefined) ?? {}) };
  for (const [key, value] of Object.entries(TOMBSTONE_INDEX_SETTINGS)) {
    const name = key.replace(/^index\./, "");
    if (!(name in index) && !(key in settings)) index[name] = value;
  }
  settings.index = index;
  return { ...(body.mappings ? { mappings: body.mappings as Record<string, unknown> } : {}), settings };
}
