import { didYouMean } from "../errors";
import { type Catalog, type CatalogRelation, findRelation, introspectCatalog, relationKey } from "./catalog";
import { SchemaError, type SchemaProblem } from "./errors";
import type {
  ResolvedColumn,
  ResolvedIndex,
  ResolvedNode,
  ResolvedSchema,
  ResolvedTable,
  TableUse,
} from "./model";
import { childPath, Problems } from "./problems";
import { replicaIdentityNeeds } from "./replica-identity";
import { checkFieldReferences } from "./resolve-fields";
import { isUnique, resolveDirectJoin, resolveThroughJoin } from "./resolve-join";
import { attachRules } from "./resolve-rules";
import { displayName, type Queryable, qualifiedName, quoteIdent } from "./sql";
import type { IndexSpec, NodeSpec, SchemaSpec, TableName } from "./types";

export interface ResolveOptions {
  /**
   * Report a problem when an index definition's `database` is not the database the client is
   * connected to. Default true; turn off when one schema file serves databases of other names.
   */
  checkDatabaseName?: boolean;
}

export interface SchemaCheck {
  /** Present when there are no problems. */
  resolved: ResolvedSchema | undefined;
  problems: SchemaProblem[];
}

/** Every table and view a schema reads: node tables, through tables and base tables. */
export function schemaTables(schema: SchemaSpec): TableName[] {
  const tables = new Map<string, TableName>();
  const add = (t: TableName) => tables.set(relationKey(t), { schema: t.schema, name: t.name });
  const walk = (node: NodeSpec) => {
    add({ schema: node.schema, name: node.table });
    if (node.relationship?.through) add(node.relationship.through);
    for (const base of node.baseTables) add(base);
    for (const child of node.children) walk(child);
  };
  for (const index of schema) walk(index.nodes);
  return [...tables.values()];
}

/**
 * Checks a parsed schema against the database (tables, columns, keys, joins, privileges) and
 * resolves it into the model the document builder and change resolver use. Never throws for
 * schema problems; returns them all.
 */
export async function checkSchema(
  schema: SchemaSpec,
  client: Queryable,
  options: ResolveOptions = {},
): Promise<SchemaCheck> {
  const catalog = await introspectCatalog(client, schemaTables(schema));
  return resolveWithCatalog(schema, catalog, options);
}

/**
 * Like {@link checkSchema}, but throws.
 * @throws SchemaError listing every problem.
 */
export async function resolveSchema(
  schema: SchemaSpec,
  client: Queryable,
  options: ResolveOptions = {},
): Promise<ResolvedSchema> {
  const { resolved, problems } = await checkSchema(schema, client, options);
  if (!resolved) throw new SchemaError(problems);
  return resolved;
}

/** Resolves against an already-read catalog (no database access). */
export function resolveWithCatalog(
  schema: SchemaSpec,
  catalog: Catalog,
  options: ResolveOptions = {},
): SchemaCheck {
  const problems = new Problems();
  const indices: ResolvedIndex[] = [];
  for (const spec of schema) {
    if ((options.checkDatabaseName ?? true) && spec.database !== catalog.database) {
      problems.add(
        childPath(spec.path, "database"),
        `the schema reads database "${spec.database}" but the connection is to "${catalog.database}"; connect to "${spec.database}" (PG_URL) or correct "database"`,
      );
    }
    const index = new IndexResolver(spec, catalog, problems).resolve();
    if (index) indices.push(index);
  }
  if (!problems.empty) return { resolved: undefined, problems: problems.list };

  const tables = new Map<string, ResolvedSchema["tables"][number]>();
  for (const use of indices.flatMap((i) => i.tableUses)) {
    const relation = findRelation(catalog, use.table);
    if (relation) {
      tables.set(relationKey(relation), {
        schema: relation.schema,
        name: relation.name,
        kind: relation.kind,
        replicaIdentity: relation.replicaIdentity,
      });
      for (const partition of relation.partitions) {
        tables.set(relationKey(partition), {
          schema: partition.schema,
          name: partition.name,
          kind: "table",
          replicaIdentity: partition.replicaIdentity,
          partitionOf: { schema: relation.schema, name: relation.name },
        });
      }
    }
  }
  return {
    resolved: {
      database: catalog.database,
      indices,
      tables: [...tables.values()],
      replicaIdentityNeeds: replicaIdentityNeeds(indices, catalog),
    },
    problems: [],
  };
}

/** Resolves one index definition, node by node, recording problems instead of stopping at the first. */
class IndexResolver {
  private readonly nodes: ResolvedNode[] = [];
  private readonly uses: TableUse[] = [];
  private failed = false;

  constructor(
    private readonly spec: IndexSpec,
    private readonly catalog: Catalog,
    private readonly problems: Problems,
  ) {}

  resolve(): ResolvedIndex | undefined {
    const root = this.node(this.spec.nodes, undefined, undefined);
    if (!root || this.failed) return undefined;
    if (!attachRules(this.spec, root, this.problems)) return undefined;
    return { spec: this.spec, root, nodes: this.nodes, tableUses: this.uses };
  }

  private node(
    spec: NodeSpec,
    parent: ResolvedNode | undefined,
    field: string | undefined,
  ): ResolvedNode | undefined {
    const relation = this.relation({ schema: spec.schema, name: spec.table }, spec.path, "table");
    const table = relation ? this.table(relation, spec) : undefined;
    const columns = relation ? this.columns(relation, spec) : undefined;
    const node: ResolvedNode | undefined =
      table && columns
        ? {
            id: this.nodes.length,
            path: spec.path,
            label: spec.label,
            field: field ?? spec.label,
            table,
            columns,
            ...(spec.columns === undefined ? { allColumns: true } : {}),
            relationship: spec.relationship && {
              type: spec.relationship.type,
              variant: spec.relationship.variant,
            },
            join: undefined,
            uniqueJoin: false,
            transform: spec.transform,
            baseTables: spec.baseTables,
            parentId: parent?.id,
            children: [],
            rules: { filters: [], changeFilters: [], values: [] },
          }
        : undefined;
    if (node) {
      this.nodes.push(node);
      this.uses.push({ table: node.table, role: "node", nodeId: node.id });
    } else {
      this.failed = true;
    }
    if (node && relation && parent && !this.join(node, spec, relation, parent)) this.failed = true;
    for (const base of spec.baseTables) {
      this.relation(base, spec.path, "base_tables");
      if (node) this.uses.push({ table: base, role: "base", nodeId: node.id });
    }
    if (node && relation && spec.columns === undefined) this.checkAllColumnNames(node, spec);
    if (node) checkFieldReferences(node, spec, this.problems);

    for (const childSpec of spec.children) {
      const child = this.node(childSpec, node, spec.transform.rename[childSpec.label] ?? childSpec.label);
      if (child && node) node.children.push(child);
    }
    return node;
  }

  private relation(table: TableName, nodePath: string, key: string): CatalogRelation | undefined {
    const found = findRelation(this.catalog, table);
    if (found) {
      if (!found.canSelect) {
        this.problems.add(
          childPath(nodePath, key),
          `role "${this.catalog.role}" may not read ${displayName(found)}; run GRANT SELECT ON ${qualifiedName(found)} TO ${quoteIdent(this.catalog.role)}`,
        );
      }
      return found;
    }
    if (!this.catalog.schemas.has(table.schema)) {
      this.problems.add(
        childPath(nodePath, key === "table" ? "schema" : key),
        `schema "${table.schema}" does not exist in database "${this.catalog.database}"${didYouMean(table.schema, this.catalog.schemas)}`,
      );
    } else {
      const names = this.catalog.relationNames.get(table.schema) ?? [];
      this.problems.add(
        childPath(nodePath, key),
        `table or view ${displayName(table)} does not exist${didYouMean(table.name, names)}`,
      );
    }
    return undefined;
  }

  private table(relation: CatalogRelation, spec: NodeSpec): ResolvedTable | undefined {
    const names = relation.columns.map((c) => c.name);
    // PGSync uses the table's own primary key when it has one and `primary_key` only otherwise.
    let primaryKey = relation.primaryKey;
    if (!primaryKey && spec.primaryKey) {
      const missing = spec.primaryKey.filter((c) => !names.includes(c));
      missing.forEach((column) => {
        const i = spec.primaryKey?.indexOf(column) ?? 0;
        this.problems.add(
          childPath(childPath(spec.path, "primary_key"), i),
          `column "${column}" does not exist in ${displayName(relation)}${didYouMean(column, names)}`,
        );
      });
      if (missing.length === 0) primaryKey = spec.primaryKey;
      else return undefined;
    }
    if (!primaryKey) {
      const what = relation.kind === "table" || relation.kind === "partitioned_table" ? "table" : "view";
      this.problems.add(
        spec.path,
        `${what} ${displayName(relation)} has no primary key; add "primary_key": [<columns that identify a row>]` +
          (what === "table" ? " or give the table a primary key" : ""),
      );
      return undefined;
    }
    return resolvedTable(relation, primaryKey);
  }

  private columns(relation: CatalogRelation, spec: NodeSpec): ResolvedColumn[] | undefined {
    const rename = spec.transform.rename;
    if (spec.columns === undefined) {
      return relation.columns.map((c) => ({
        field: rename[c.name] ?? c.name,
        name: c.name,
        column: c.name,
        path: [],
        type: c.type,
      }));
    }
    const names = relation.columns.map((c) => c.name);
    const result: ResolvedColumn[] = [];
    let ok = true;
    spec.columns.forEach((entry, i) => {
      const path = childPath(childPath(spec.path, "columns"), i);
      // A column whose own name contains "->" is read as that column, not as a JSON path.
      const literal = relation.columns.find((c) => c.name === entry.source);
      if (literal) {
        result.push({
          field: rename[entry.source] ?? entry.source,
          name: entry.source,
          column: literal.name,
          path: [],
          type: literal.type,
        });
        return;
      }
      const column = relation.columns.find((c) => c.name === entry.column);
      if (!column) {
        ok = false;
        this.problems.add(
          path,
          `column "${entry.column}" does not exist in ${displayName(relation)}${didYouMean(entry.column, names)}`,
        );
        return;
      }
      if (entry.path.length > 0 && column.baseType !== "json" && column.baseType !== "jsonb") {
        ok = false;
        this.problems.add(
          path,
          `"${entry.source}" applies JSON operators to ${entry.column}, which is ${column.type}, not json or jsonb`,
        );
        return;
      }
      result.push({
        field: rename[entry.name] ?? entry.name,
        name: entry.name,
        column: column.name,
        path: entry.path,
        type: column.type,
      });
    });
    return ok ? result : undefined;
  }

  /** Sets `node.join`; returns false (after recording problems) when the join cannot be resolved. */
  private join(node: ResolvedNode, spec: NodeSpec, child: CatalogRelation, parent: ResolvedNode): boolean {
    const relationship = spec.relationship;
    const parentRelation = findRelation(this.catalog, parent.table);
    if (!relationship || !parentRelation) return false;
    const relationshipPath = childPath(spec.path, "relationship");
    if (relationship.through) {
      const throughPath = childPath(childPath(relationshipPath, "through_tables"), 0);
      const through = this.relation(relationship.through, relationshipPath, "through_tables");
      if (!through) return false;
      const join = resolveThroughJoin(child, through, parentRelation, throughPath, this.problems);
      if (!join) return false;
      const throughTable = resolvedTable(through, through.primaryKey ?? []);
      node.join = { ...join, through: throughTable };
      this.uses.push({ table: throughTable, role: "through", nodeId: node.id });
      return true;
    }
    const join = resolveDirectJoin(
      child,
      parentRelation,
      relationship.foreignKey,
      relationshipPath,
      this.problems,
    );
    if (!join) return false;
    node.join = join;
    node.uniqueJoin = isUnique(child, join.childColumns);
    return true;
  }

  /** With every column selected, clashes between renamed columns and child labels show only now. */
  private checkAllColumnNames(node: ResolvedNode, spec: NodeSpec): void {
    const fields = new Set<string>();
    for (const column of node.columns) {
      if (fields.has(column.field)) {
        this.problems.add(
          childPath(childPath(spec.path, "transform"), "rename"),
          `two columns of ${displayName(node.table)} would both be called "${column.field}"; rename one of them differently`,
        );
      }
      fields.add(column.field);
    }
    for (const child of spec.children) {
      const field = spec.transform.rename[child.label] ?? child.label;
      if (fields.has(field)) {
        this.problems.add(
          childPath(child.path, child.label === child.table ? "table" : "label"),
          `child "${child.label}" gives the field "${field}", which is also a column of ${displayName(node.table)}; give the child another "label"`,
        );
      }
    }
  }
}

function resolvedTable(relation: CatalogRelation, primaryKey: string[]): ResolvedTable {
  const keyColumns = primaryKey.map((name) => relation.columns.find((c) => c.name === name));
  return {
    schema: relation.schema,
    name: relation.name,
    kind: relation.kind,
    replicaIdentity: relation.replicaIdentity,
    primaryKey,
    primaryKeyTypes: keyColumns.map((c) => c?.type ?? "text"),
    primaryKeyBaseTypes: keyColumns.map((c) => c?.baseType ?? "text"),
    columns: relation.columns,
    partitions: relation.partitions.map((p) => ({ schema: p.schema, name: p.name })),
  };
}
