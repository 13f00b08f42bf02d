import type { Catalog, CatalogRelation, ReplicaIdentity } from "../../../lib/schema";
import { relationKey } from "../../../lib/schema";

/**
 * Hand-built catalogs for tests that resolve schemas without a database.
 * Columns are `name` or `name:type` (integer by default); foreign keys `[columns, table, refColumns, name?]`.
 */
/** A table for a hand-built catalog: `columns` as `name:type`, foreign keys as `cols->table(cols)`. */
export function table(
  name: string,
  columns: string[],
  options: {
    schema?: string;
    pk?: string[];
    unique?: string[][];
    fks?: Array<[string[], string, string[], string?]>;
    kind?: CatalogRelation["kind"];
    identity?: ReplicaIdentity;
    canSelect?: boolean;
  } = {},
): CatalogRelation {
  const schema = options.schema ?? "public";
  const pk = options.kind === "view" ? undefined : (options.pk ?? ["id"]);
  return {
    schema,
    name,
    oid: name,
    kind: options.kind ?? "table",
    replicaIdentity: options.identity ?? "default",
    canSelect: options.canSelect ?? true,
    columns: columns.map((c) => {
      const [col = c, type = "integer"] = c.split(":");
      return { name: col, type, baseType: type, notNull: false };
    }),
    primaryKey: pk,
    uniqueKeys: [...(pk ? [pk] : []), ...(options.unique ?? [])],
    replicaIdentityIndex: undefined,
    foreignKeys: (options.fks ?? []).map(([cols, ref, refCols, fkName]) => ({
      name: fkName ?? `${name}_${cols.join("_")}_fkey`,
      table: { schema, name },
      columns: cols,
      refTable: { schema, name: ref },
      refColumns: refCols,
    })),
    partitions: [],
  };
}

export function catalog(...relations: CatalogRelation[]): Catalog {
  const relationNames = new Map<string, string[]>();
  for (const r of relations) relationNames.set(r.schema, [...(relationNames.get(r.schema) ?? []), r.name]);
  return {
    database: "shop",
    role: "app",
    schemas: new Set(["public", ...relations.map((r) => r.schema)]),
    relationNames,
    relations: new Map(relations.map((r) => [relationKey(r), r])),
  };
}
