import type { AlertState, BootstrapProgress, DriftRecord } from "../../../lib/checkpoint";
import type { Queryable, ResolvedSchema } from "../../../lib/schema";

/** A table of the fake catalog. */
export interface FakeTable {
  schema: string;
  name: string;
  oid: string;
  columns: { name: string; type: string; attnum: number }[];
}

/**
 * The catalog as `readCatalogState` queries it: tables matched by (schema, name) or oid. Change
 * `tables` to simulate DDL (drop, rename, type change).
 */
export class FakeCatalog implements Queryable {
  queries = 0;
  constructor(public tables: FakeTable[]) {}

  async query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }> {
    if (!text.includes("pg_catalog.pg_attribute")) throw new Error(`unexpected query: ${text}`);
    this.queries++;
    const [schemas, names, oids] = (values ?? []) as [string[], string[], string[]];
    const rows = this.tables.filter(
      (t) => schemas.some((s, i) => s === t.schema && names[i] === t.name) || oids.includes(t.oid),
    );
    return { rows: structuredClone(rows) as unknown as R[] };
  }

  table(name: string): FakeTable {
    const t = this.tables.find((x) => x.name === name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  }
}

/** book (id, title, price, publisher_id) → publisher (id, name), index "book". */
export function bookCatalog(): FakeCatalog {
  return new FakeCatalog([
    {
      schema: "public",
      name: "book",
      oid: "1001",
      columns: [
        { name: "id", type: "integer", attnum: 1 },
        { name: "title", type: "text", attnum: 2 },
        { name: "price", type: "numeric", attnum: 3 },
        { name: "publisher_id", type: "integer", attnum: 4 },
        { name: "notes", type: "text", attnum: 5 },
      ],
    },
    {
      schema: "public",
      name: "publisher",
      oid: "1002",
      columns: [
        { name: "id", type: "integer", attnum: 1 },
        { name: "name", type: "text", attnum: 2 },
      ],
    },
  ]);
}

/** The resolved model of that schema, with only what the drift check reads. */
export function bookSchema(): ResolvedSchema {
  const table = (name: string) => ({ schema: "public", name, primaryKey: ["id"] });
  const rules = () => ({ filters: [], changeFilters: [], values: [] });
  const book = {
    id: 0,
    table: table("book"),
    columns: [{ column: "id" }, { column: "title" }, { column: "price" }],
    join: undefined,
    parentId: undefined,
    baseTables: [],
    rules: rules(),
  };
  const publisher = {
    id: 1,
    table: table("publisher"),
    columns: [{ column: "name" }],
    join: {
      kind: "direct",
      childColumns: ["id"],
      parentColumns: ["publisher_id"],
      direction: "parent_holds_key",
      constraint: undefined,
    },
    parentId: 0,
    baseTables: [],
    rules: rules(),
  };
  return {
    database: "app",
    indices: [{ spec: { index: "book" }, root: book, nodes: [book, publisher], tableUses: [] }],
    tables: [],
    replicaIdentityNeeds: [],
  } as unknown as ResolvedSchema;
}

/** An in-memory checkpoint store with the drift, bootstrap and alert parts. */
export class MemoryDriftStore {
  drift = new Map<string, Map<string, DriftRecord>>();
  alerts = new Map<string, AlertState>();
  bootstraps: BootstrapProgress[] = [];

  async readDrift(slot: string): Promise<Record<string, DriftRecord>> {
    return structuredClone(Object.fromEntries(this.drift.get(slot) ?? new Map()));
  }
  async writeDrift(slot: string, name: string, record: DriftRecord): Promise<void> {
    const records = this.drift.get(slot) ?? new Map<string, DriftRecord>();
    records.set(name, JSON.parse(JSON.stringify(record)) as DriftRecord);
    this.drift.set(slot, records);
  }
  async clearDrift(slot: string, name?: string): Promise<void> {
    if (name === undefined) this.drift.delete(slot);
    else this.drift.get(slot)?.delete(name);
  }
  async listBootstraps(_slot: string): Promise<string[]> {
    return [...this.bootstraps]
      .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
      .map((b) => b.bootstrapId);
  }
  async readBootstrap(_slot: string, id: string): Promise<BootstrapProgress | null> {
    return this.bootstraps.find((b) => b.bootstrapId === id) ?? null;
  }
  async readAlert(slot: string, name: string): Promise<AlertState | null> {
    const a = this.alerts.get(`${slot}/${name}`);
    return a ? structuredClone(a) : null;
  }
  async writeAlert(slot: string, name: string, state: AlertState): Promise<void> {
    this.alerts.set(`${slot}/${name}`, structuredClone(state));
  }
}

/** A bootstrap of `index` started at `startedAt`. */
export function bootstrapAt(index: string, startedAt: string): BootstrapProgress {
  return {
    bootstrapId: `b-${index}-${Date.parse(startedAt)}`,
    index,
    lsn: "1",
    startedAt,
    completedAt: null,
    total: 1,
    done: 0,
    running: 0,
    failed: 0,
    pending: 1,
    documents: 0,
    ranges: {},
  };
}
