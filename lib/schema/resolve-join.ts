import { didYouMean } from "../errors";
import { type CatalogForeignKey, type CatalogRelation, relationKey } from "./catalog";
import type { DirectJoin, JoinDirection, ThroughJoin } from "./model";
import { childPath, type Problems } from "./problems";
import { displayName } from "./sql";
import type { ForeignKeySpec, TableName } from "./types";

/** One way two tables could be joined, from a foreign key read one way or the other. */
interface Candidate {
  constraint: string;
  /** Columns of the first table of the pair asked about (the child, or the through table). */
  ownColumns: string[];
  /** Columns of the second table (the parent). */
  otherColumns: string[];
  direction: JoinDirection;
  fk: CatalogForeignKey;
}

const sameTable = (a: TableName, b: TableName) => relationKey(a) === relationKey(b);

/**
 * Foreign keys joining `own` to `other`, read both ways (own references other, other references own).
 * A self-referencing table (node.parent_id -> node.id) would list its one key twice; it is read one
 * way only, as PGSync's `node` example intends: a child is a row that points at its parent
 * (`bothWays` lists the other reading too, to name the constraint of a declared `foreign_key`).
 */
function candidates(own: CatalogRelation, other: CatalogRelation, bothWays = false): Candidate[] {
  const result: Candidate[] = [];
  const self = sameTable(own, other) && !bothWays;
  for (const fk of own.foreignKeys) {
    if (sameTable(fk.refTable, other)) {
      result.push({
        constraint: fk.name,
        ownColumns: fk.columns,
        otherColumns: fk.refColumns,
        direction: "child_holds_key",
        fk,
      });
    }
  }
  for (const fk of other.foreignKeys) {
    if (!self && sameTable(fk.refTable, own)) {
      result.push({
        constraint: fk.name,
        ownColumns: fk.refColumns,
        otherColumns: fk.columns,
        direction: "parent_holds_key",
        fk,
      });
    }
  }
  return result;
}

function describeCandidate(c: Candidate): string {
  const arrow = `${displayName(c.fk.table)}(${c.fk.columns.join(", ")}) -> ${displayName(c.fk.refTable)}(${c.fk.refColumns.join(", ")})`;
  const spec = JSON.stringify({ child: c.ownColumns, parent: c.otherColumns });
  return `${c.constraint} [${arrow}] as "foreign_key": ${spec}`;
}

/**
 * Joins a child node to its parent: from the declared `foreign_key`, or else from the one foreign
 * key between the two tables. Records a problem (listing the candidates) when there is none or
 * more than one.
 */
export function resolveDirectJoin(
  child: CatalogRelation,
  parent: CatalogRelation,
  declared: ForeignKeySpec | undefined,
  relationshipPath: string,
  problems: Problems,
): DirectJoin | undefined {
  if (declared)
    return declaredJoin(child, parent, declared, childPath(relationshipPath, "foreign_key"), problems);
  const found = candidates(child, parent);
  const only = pickOne(found, child, parent, relationshipPath, problems);
  if (!only) return undefined;
  return {
    kind: "direct",
    childColumns: only.ownColumns,
    parentColumns: only.otherColumns,
    direction: only.direction,
    constraint: only.constraint,
  };
}

function pickOne(
  found: Candidate[],
  own: CatalogRelation,
  other: CatalogRelation,
  path: string,
  problems: Problems,
  throughHint = false,
): Candidate | undefined {
  if (found.length === 1) return found[0];
  const pair = `${displayName(own)} and ${displayName(other)}`;
  if (found.length === 0) {
    const views = own.kind !== "table" || other.kind !== "table" ? " (views have no foreign keys)" : "";
    problems.add(
      path,
      throughHint
        ? `no foreign key joins ${pair}${views}; the through table needs a foreign key to each side`
        : `no foreign key joins ${pair}${views}; declare the join as "foreign_key": {"child": [...], "parent": [...]}`,
    );
    return undefined;
  }
  const listed = found.map(describeCandidate).join("; ");
  problems.add(
    path,
    throughHint
      ? `${found.length} foreign keys could join ${pair}: ${listed}; a through table needs exactly one foreign key to each side`
      : `${found.length} foreign keys could join ${pair}: ${listed}; add the one you mean to the relationship`,
  );
  return undefined;
}

function declaredJoin(
  child: CatalogRelation,
  parent: CatalogRelation,
  declared: ForeignKeySpec,
  path: string,
  problems: Problems,
): DirectJoin | undefined {
  let ok = true;
  const check = (relation: CatalogRelation, columns: string[], side: "child" | "parent") => {
    const names = relation.columns.map((c) => c.name);
    columns.forEach((column, i) => {
      if (names.includes(column)) return;
      ok = false;
      problems.add(
        childPath(childPath(path, side), i),
        `column "${column}" does not exist in ${displayName(relation)}${didYouMean(column, names)}`,
      );
    });
  };
  check(child, declared.child, "child");
  check(parent, declared.parent, "parent");
  if (!ok) return undefined;

  declared.child.forEach((column, i) => {
    const parentColumn = declared.parent[i] ?? "";
    const a = child.columns.find((c) => c.name === column);
    const b = parent.columns.find((c) => c.name === parentColumn);
    if (a && b && !comparable(a.baseType, b.baseType)) {
      ok = false;
      problems.add(
        childPath(childPath(path, "child"), i),
        `${displayName(child)}.${column} is ${a.type} but ${displayName(parent)}.${parentColumn} is ${b.type}; joined columns must have comparable types`,
      );
    }
  });
  if (!ok) return undefined;

  const match = candidates(child, parent, true).find(
    (c) => sameList(c.ownColumns, declared.child) && sameList(c.otherColumns, declared.parent),
  );
  return {
    kind: "direct",
    childColumns: declared.child,
    parentColumns: declared.parent,
    direction: match?.direction ?? inferDirection(child, parent, declared),
    constraint: match?.constraint,
  };
}

/** Without a constraint (views), the side whose join columns are unique is the one referenced. */
function inferDirection(
  child: CatalogRelation,
  parent: CatalogRelation,
  declared: ForeignKeySpec,
): JoinDirection {
  if (isUnique(parent, declared.parent)) return "child_holds_key";
  if (isUnique(child, declared.child)) return "parent_holds_key";
  return "child_holds_key";
}

/** Whether the columns contain a unique key of the relation (so they match at most one row). */
export function isUnique(relation: CatalogRelation, columns: readonly string[]): boolean {
  return relation.uniqueKeys.some((key) => key.length > 0 && key.every((c) => columns.includes(c)));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const INTEGERS = new Set(["smallint", "integer", "bigint", "numeric", "real", "double precision", "oid"]);
const TEXTS = new Set(["text", "character varying", "character", "name", "citext", "bpchar"]);

/** A loose check that `=` between the two types exists; it catches uuid = integer and the like. */
function comparable(a: string, b: string): boolean {
  const base = (t: string) => t.replace(/\(.*\)$/, "").replace(/\[\]$/, "[]");
  const x = base(a);
  const y = base(b);
  return x === y || (INTEGERS.has(x) && INTEGERS.has(y)) || (TEXTS.has(x) && TEXTS.has(y));
}

/**
 * Joins a child node to its parent through an intermediate table: one foreign key between the
 * through table and the parent, one between the through table and the child.
 */
export function resolveThroughJoin(
  child: CatalogRelation,
  through: CatalogRelation,
  parent: CatalogRelation,
  throughPath: string,
  problems: Problems,
): Omit<ThroughJoin, "through"> | undefined {
  const toParent = pickOne(candidates(through, parent), through, parent, throughPath, problems, true);
  const toChild = pickOne(candidates(through, child), through, child, throughPath, problems, true);
  if (!toParent || !toChild) return undefined;
  return {
    kind: "through",
    throughParentColumns: toParent.ownColumns,
    parentColumns: toParent.otherColumns,
    throughChildColumns: toChild.ownColumns,
    childColumns: toChild.otherColumns,
    parentConstraint: toParent.constraint,
    childConstraint: toChild.constraint,
  };
}
