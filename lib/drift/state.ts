import type { CheckpointStore } from "../checkpoint";
import { DRIFT_KINDS, type DriftFinding, type DriftState, type SchemaDriftRecord } from "./types";

/** The parts of the checkpoint store the drift check uses. */
export type DriftStore = Pick<CheckpointStore, "readDrift" | "writeDrift" | "clearDrift"> &
  Partial<Pick<CheckpointStore, "listBootstraps" | "readBootstrap">>;

/** Records kept per slot: the newest schemas only (a deployment adds one). */
export const MAX_SCHEMA_RECORDS = 5;

/** The store name of a schema's drift record. */
export function recordName(schemaHash: string): string {
  return `schema-${schemaHash}`;
}

function isFinding(value: unknown): value is DriftFinding {
  const f = value as Partial<DriftFinding> | null;
  return (
    !!f &&
    typeof f.index === "string" &&
    typeof f.table === "string" &&
    typeof f.fix === "string" &&
    DRIFT_KINDS.includes(f.kind as DriftFinding["kind"])
  );
}

/** A stored record read back; undefined when it is not one (written by another version: ignored). */
export function parseSchemaRecord(value: unknown): SchemaDriftRecord | undefined {
  const r = value as Partial<SchemaDriftRecord> | null;
  if (
    r?.v !== 1 ||
    typeof r.schemaHash !== "string" ||
    typeof r.takenAt !== "string" ||
    typeof r.startedAt !== "string" ||
    !r.fingerprint ||
    !Array.isArray(r.fingerprint.tables)
  ) {
    return undefined;
  }
  const d = r.drift as Partial<DriftState> | null | undefined;
  const drift: DriftState | null =
    d && Array.isArray(d.findings) && typeof d.detectedAt === "string"
      ? {
          findings: d.findings.filter(isFinding),
          detectedAt: d.detectedAt,
          checkedAt: typeof d.checkedAt === "string" ? d.checkedAt : d.detectedAt,
          source: typeof d.source === "string" ? d.source : "unknown",
        }
      : null;
  return { ...(r as SchemaDriftRecord), drift };
}

/** Every schema record of the slot, newest start first. */
export async function readSchemaRecords(store: DriftStore, slot: string): Promise<SchemaDriftRecord[]> {
  const raw = await store.readDrift(slot);
  return Object.values(raw)
    .map(parseSchemaRecord)
    .filter((r): r is SchemaDriftRecord => r !== undefined)
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
}

/**
 * The drift of the deployed schema: the schema a process started with most recently. Records of
 * older schemas are history (a process still running one is about to be replaced).
 */
export async function readCurrentDrift(
  store: Pick<CheckpointStore, "readDrift">,
  slot: string,
): Promise<{ schemaHash: string; startedAt: string; drift: DriftState | null } | null> {
  const [newest] = await readSchemaRecords(store as DriftStore, slot);
  return newest ? { schemaHash: newest.schemaHash, startedAt: newest.startedAt, drift: newest.drift } : null;
}

/** Writes a record as `schema-<hash>`. */
export function writeSchemaRecord(store: DriftStore, slot: string, record: SchemaDriftRecord): Promise<void> {
  return store.writeDrift(slot, recordName(record.schemaHash), record as unknown as Record<string, unknown>);
}

/** Removes the records of all but the newest {@link MAX_SCHEMA_RECORDS} schemas (never `keep`). */
export async function pruneSchemaRecords(store: DriftStore, slot: string, keep: string): Promise<void> {
  const records = await readSchemaRecords(store, slot);
  for (const old of records.slice(MAX_SCHEMA_RECORDS)) {
    if (old.schemaHash !== keep) await store.clearDrift(slot, recordName(old.schemaHash));
  }
}
