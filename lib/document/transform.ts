import {
  type ConcatSpec,
  compileRuleRegex,
  type MoveSpec,
  type ResolvedIndex,
  type ResolvedNode,
  type ResolvedValueRule,
} from "../schema";
import { DocumentError } from "./errors";
import { isJsonObject, type JsonObject, type JsonValue } from "./json";
import { pythonStr, pythonTruthy } from "./python-format";

/**
 * The transforms that run on built documents. `rename` is not here: it is applied in SQL, where
 * it only changes the key written. The others need the value:
 * - `replace`: every occurrence of each search text in string values (and strings in arrays), pair
 *   after pair in the schema's order (except that JSON objects list integer-like keys such as "4"
 *   first, so such search texts apply before the others);
 * - `concat`: PGSync's rule: each listed name is the field's value when the field exists, else the
 *   name itself as literal text; values Python treats as false (null, "", 0, false) are skipped;
 *   the rest are joined with `delimiter` after Python's `str()`;
 * - `move`: removes the field and writes it at `destination`, `$root.a.b` from the document root
 *   or `a.b` inside the node's object. When the node can occur more than once in a document (it
 *   or an ancestor is one_to_many or through a table), a `$root` destination receives an array of
 *   the moved values, so the field's shape depends on the schema, not on the data.
 * - slotsync's `regex` and `mask` rules rewrite string values (and strings in arrays) first.
 * Per node object the order is the regex and mask rules, replace, concat, the children, then move.
 */
export type Transformer = (doc: JsonObject) => JsonObject;

interface NodePlan {
  node: ResolvedNode;
  /** Regex and mask rules: field (after rename) -> rewrites of a string, in schema order. */
  values: Map<string, Array<(text: string) => string>>;
  /** Field name (after rename) -> ordered search/replacement pairs. */
  replace: Map<string, Array<[string, string]>>;
  concat: ConcatSpec[];
  moves: Array<{ spec: MoveSpec; field: string; many: boolean }>;
  children: NodePlan[];
}

export interface TransformerOptions {
  /**
   * How long the rules may work on one document, in milliseconds (default 5,000). Rule regexes run
   * in linear time, so this is a second line of defence: a document past it fails alone, with its
   * reason, instead of holding up the batch.
   */
  budgetMs?: number;
  /** The clock, in milliseconds. */
  now?: () => number;
}

/** The time budget of the document being transformed, shared by the rewrites of its plan. */
interface Budget {
  deadline: number;
  readonly ms: number;
  readonly now: () => number;
}

/** Builds the transformer of an index, or undefined when no node has value transforms. */
export function createTransformer(
  index: ResolvedIndex,
  options: TransformerOptions = {},
): Transformer | undefined {
  const budget: Budget = {
    deadline: Number.POSITIVE_INFINITY,
    ms: options.budgetMs ?? 5000,
    now: options.now ?? (() => performance.now()),
  };
  const plan = planNode(index.root, false, budget);
  if (!plan) return undefined;
  return (doc) => {
    budget.deadline = budget.now() + budget.ms;
    const collected = new Map<MoveSpec, JsonValue[]>();
    const moved = new Map<MoveSpec, JsonValue>();
    applyObject(plan, doc, doc, collected, moved);
    for (const [spec, values] of collected) setPath(doc, spec.destinationPath, values, spec.destination);
    for (const [spec, value] of moved) setPath(doc, spec.destinationPath, value, spec.destination);
    return doc;
  };
}

function fieldOf(node: ResolvedNode, name: string): string {
  if (node.columns.some((c) => c.field === name)) return name;
  return node.transform.rename[name] ?? name;
}

function planNode(node: ResolvedNode, underArray: boolean, budget: Budget): NodePlan | undefined {
  const many = underArray || node.relationship?.type === "one_to_many" || node.join?.kind === "through";
  const children = node.children
    .map((c) => planNode(c, many, budget))
    .filter((c): c is NodePlan => c !== undefined);
  const { replace, concat, move } = node.transform;
  if (
    node.rules.values.length === 0 &&
    Object.keys(replace).length === 0 &&
    concat.length === 0 &&
    move.length === 0 &&
    children.length === 0
  ) {
    return undefined;
  }
  const replaceMap = new Map<string, Array<[string, string]>>();
  for (const [field, pairs] of Object.entries(replace))
    replaceMap.set(fieldOf(node, field), Object.entries(pairs));
  const values = new Map<string, Array<(text: string) => string>>();
  for (const rule of node.rules.values)
    values.set(rule.field, [...(values.get(rule.field) ?? []), valueRewrite(rule, budget)]);
  return {
    node,
    values,
    replace: replaceMap,
    concat,
    moves: move.map((spec) => ({ spec, field: fieldOf(node, spec.column), many })),
    children,
  };
}

/** Applies a plan to a node's value (object, array of objects, scalar or array of scalars). */
function applyValue(
  plan: NodePlan,
  value: JsonValue,
  root: JsonObject,
  collected: Map<MoveSpec, JsonValue[]>,
  moved: Map<MoveSpec, JsonValue>,
): JsonValue {
  if (plan.node.relationship?.variant === "scalar") {
    const column = plan.node.columns[0];
    const rewrites = column && plan.values.get(column.field);
    const rewritten = rewrites ? rewriteIn(value, rewrites) : value;
    const pairs = column && (plan.replace.get(column.field) ?? plan.replace.get(column.name));
    return pairs ? replaceIn(rewritten, pairs) : rewritten;
  }
  if (Array.isArray(value)) {
    for (const item of value) if (isJsonObject(item)) applyObject(plan, item, root, collected, moved);
  } else if (isJsonObject(value)) {
    applyObject(plan, value, root, collected, moved);
  }
  return value;
}

function applyObject(
  plan: NodePlan,
  object: JsonObject,
  root: JsonObject,
  collected: Map<MoveSpec, JsonValue[]>,
  moved: Map<MoveSpec, JsonValue>,
): void {
  for (const [field, rewrites] of plan.values) {
    const value = object[field];
    if (value !== undefined) object[field] = rewriteIn(value, rewrites);
  }
  for (const [field, pairs] of plan.replace) {
    const value = object[field];
    if (value !== undefined) object[field] = replaceIn(value, pairs);
  }
  for (const concat of plan.concat) {
    const parts = concat.columns.map((name) => (name in object ? (object[name] as JsonValue) : name));
    object[concat.destination] = parts.filter(pythonTruthy).map(pythonStr).join(concat.delimiter);
  }
  for (const child of plan.children) {
    const value = object[child.node.field];
    if (value !== undefined) object[child.node.field] = applyValue(child, value, root, collected, moved);
  }
  for (const { spec, field, many } of plan.moves) {
    if (!(field in object)) continue;
    const value = object[field] as JsonValue;
    delete object[field];
    if (!spec.absolute) setPath(object, spec.destinationPath, value, spec.destination);
    else if (many) collected.set(spec, [...(collected.get(spec) ?? []), value]);
    else moved.set(spec, value);
  }
}

/** The string rewrite of a regex or mask rule. */
function valueRewrite(rule: ResolvedValueRule, budget: Budget): (text: string) => string {
  if (rule.type === "regex") {
    const { regex, problem } = compileRuleRegex(rule.pattern, rule.flags);
    // Parsing the schema refused such a pattern already; a resolved schema built by hand may not have.
    if (!regex) throw new DocumentError(`the regex rule at ${rule.path}: ${problem}`, { where: rule.path });
    return (text) => {
      if (budget.now() > budget.deadline) {
        throw new DocumentError(
          `the rules took longer than ${budget.ms} ms on this document (stopped before the regex rule at ${rule.path})`,
          { where: rule.path, fix: "simplify the rule's pattern, or limit it to shorter fields" },
        );
      }
      return regex.replaceAll(text, rule.replace);
    };
  }
  return (text) => maskText(text, rule.maskChar);
}

/**
 * Keeps the first and last character and replaces each one between with `maskChar`. Counts code
 * points, so an emoji is one character; a text of two characters or fewer has nothing between.
 */
export function maskText(text: string, maskChar: string): string {
  const chars = Array.from(text);
  if (chars.length <= 2) return text;
  return `${chars[0]}${maskChar.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

/** Applies rewrites to a string, or to each string of an array; other values are left as they are. */
function rewriteIn(value: JsonValue, rewrites: ReadonlyArray<(text: string) => string>): JsonValue {
  const one = (text: string) => rewrites.reduce((t, rewrite) => rewrite(t), text);
  if (typeof value === "string") return one(value);
  if (Array.isArray(value)) return value.map((item) => (typeof item === "string" ? one(item) : item));
  return value;
}

function replaceIn(value: JsonValue, pairs: ReadonlyArray<[string, string]>): JsonValue {
  if (typeof value === "string") {
    let text = value;
    for (const [search, replacement] of pairs) text = text.replaceAll(search, replacement);
    return text;
  }
  if (Array.isArray(value))
    return value.map((item) => (typeof item === "string" ? replaceIn(item, pairs) : item));
  return value;
}

/** Writes `value` at `path` under `target`, creating objects where the path has none. */
function setPath(target: JsonObject, path: readonly string[], value: JsonValue, destination: string): void {
  let current = target;
  for (const [i, part] of path.entries()) {
    if (i === path.length - 1) {
      current[part] = value;
      return;
    }
    const next = current[part];
    if (next === undefined || next === null) {
      const created: JsonObject = {};
      current[part] = created;
      current = created;
    } else if (isJsonObject(next)) {
      current = next;
    } else {
      throw new DocumentError(
        `move to "${destination}" passes through "${part}", which holds ${Array.isArray(next) ? "an array" : typeof next}, not an object`,
        { fix: "choose a move destination whose parent fields are objects" },
      );
    }
  }
}
