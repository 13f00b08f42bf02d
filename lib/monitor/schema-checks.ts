import type pg from "pg";
import type { CheckpointStore } from "../checkpoint";
import type { DocumentBuilder } from "../document";
import type { ResolvedSchema } from "../schema";
import type { SearchSink } from "../sink";
import { checkDivergence, type DivergenceSettings, divergenceFindings } from "./divergence";
import { replicaIdentityFindings } from "./identity";
import type { DivergenceReport, Finding } from "./types";

export interface SchemaChecksDeps {
  /** The monitor's connection; the sampled verify reads its snapshots on it, one after another. */
  db: pg.ClientBase;
  /** Reads the deployed schema and resolves it against the catalog now. */
  resolve(db: pg.ClientBase): Promise<ResolvedSchema>;
  /** The document builders of the schema's indices (absent: no sampled verify). */
  builders?(schema: ResolvedSchema): Promise<DocumentBuilder[]>;
  /** The search engine (absent, or a stream sink, which keeps no documents: no sampled verify). */
  sink?: SearchSink;
  /** The index or alias compared for a schema index; default the schema's name, the alias. */
  target?: (index: string) => string;
  store: Pick<CheckpointStore, "readAlert" | "writeAlert">;
  slot: string;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

/** What the checks of the schema's tables and indices found. */
export interface SchemaChecks {
  /** Reported and alerted with the schema slot (`checkWal`'s `schemaFindings`). */
  findings: Finding[];
  /** Tables lacking the replica identity the schema needs; undefined when the schema did not resolve. */
  replicaIdentityMissing: number | undefined;
  /** The sampled verify; undefined when off, not configured, or failed (see `problems`). */
  documents: DivergenceReport | undefined;
  /** What kept a check from running, one line each. */
  problems: string[];
}

/**
 * The monitor's checks of what the schema reads, beside the WAL: the replica identity every table
 * needs (read from the catalog now, so a table set back to DEFAULT, re-created or a new partition
 * is found within one monitor run), and the sampled comparison of the indices with the database.
 * Never throws: a schema that does not resolve or a search engine that cannot be read is a problem
 * line (schema drift itself is the poller's to report).
 */
export async function runSchemaChecks(
  deps: SchemaChecksDeps,
  verify: DivergenceSettings,
): Promise<SchemaChecks> {
  const result: SchemaChecks = {
    findings: [],
    replicaIdentityMissing: undefined,
    documents: undefined,
    problems: [],
  };
  let schema: ResolvedSchema;
  try {
    schema = await deps.resolve(deps.db);
  } catch (error) {
    result.problems.push(
      `could not resolve the schema, so replica identity and documents were not checked: ${describe(error)}`,
    );
    return result;
  }
  const identity = replicaIdentityFindings(schema);
  result.replicaIdentityMissing = identity.length;
  result.findings.push(...identity);
  if (verify.sample <= 0 || !deps.sink || !deps.builders) return result;
  try {
    const db = deps.db;
    result.documents = await checkDivergence(
      {
        connect: async () => ({ client: db, release: () => undefined }),
        builders: await deps.builders(schema),
        sink: deps.sink,
        ...(deps.target ? { target: deps.target } : {}),
        store: deps.store,
        slot: deps.slot,
        ...(deps.now ? { now: deps.now } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
      },
      verify,
    );
    result.findings.push(...divergenceFindings(result.documents));
  } catch (error) {
    result.problems.push(`could not compare the indices with the database: ${describe(error)}`);
  }
  return result;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const line = (error as Error & { toLine?: () => string }).toLine;
    return typeof line === "function" ? line.call(error) : error.message || error.name;
  }
  return String(error);
}
