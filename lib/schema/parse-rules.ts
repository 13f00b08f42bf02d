import { didYouMean } from "../errors";
import { childPath, describe, isObject, type Problems } from "./problems";
import { compileRuleRegex } from "./rule-regex";
import {
  FILTER_OPS,
  type FilterOp,
  type FilterValue,
  type JsonLike,
  RULE_OPERATIONS,
  type RuleOperation,
  type RuleSpec,
} from "./types";

const SLOTSYNC_KEYS = ["rules"] as const;
const RULE_TYPES = ["filter", "regex", "mask"] as const;
const COMMON_KEYS = ["node", "type", "column"];
const KEYS_BY_TYPE: Record<(typeof RULE_TYPES)[number], readonly string[]> = {
  filter: [...COMMON_KEYS, "op", "value", "operations"],
  regex: [...COMMON_KEYS, "pattern", "replace", "flags"],
  mask: [...COMMON_KEYS, "mask_char"],
};
/** pg_flo's spellings, accepted so its rule files carry over. */
const OP_ALIASES: Record<string, FilterOp> = { gte: "ge", lte: "le" };
const ORDERING_OPS: readonly FilterOp[] = ["gt", "lt", "ge", "le"];
/** Flags that make sense for a replace-all on one string value (`g` is implied). */
const REGEX_FLAGS = /^[imsu]*$/;

/**
 * Parses the `slotsync` key of an index definition: `{"rules": [...]}`. PGSync ignores keys of an
 * index definition it does not know, so the same file still works with PGSync (without the rules).
 * Only the shape is checked here; nodes and columns are checked against the database on resolve.
 */
export function parseSlotsyncKey(value: JsonLike | undefined, path: string, problems: Problems): RuleSpec[] {
  if (value === undefined) return [];
  if (!isObject(value)) {
    problems.add(
      path,
      `expected slotsync's settings (a JSON object such as {"rules": [...]}), got ${describe(value)}`,
    );
    return [];
  }
  problems.unknownKeys(value, path, SLOTSYNC_KEYS, "slotsync");
  const rulesPath = childPath(path, "rules");
  const rules = value.rules;
  if (rules === undefined) return [];
  if (!Array.isArray(rules)) {
    problems.add(rulesPath, `expected an array of rules, got ${describe(rules)}`);
    return [];
  }
  const result: RuleSpec[] = [];
  rules.forEach((rule, i) => {
    const parsed = parseRule(rule, childPath(rulesPath, i), problems);
    if (parsed) result.push(parsed);
  });
  return result;
}

function parseRule(value: JsonLike, path: string, problems: Problems): RuleSpec | undefined {
  if (!isObject(value)) {
    problems.add(
      path,
      `expected a rule (a JSON object with "node", "type" and "column"), got ${describe(value)}`,
    );
    return undefined;
  }
  const type = value.type;
  if (typeof type !== "string" || !(RULE_TYPES as readonly string[]).includes(type)) {
    const hint = typeof type === "string" ? didYouMean(type, RULE_TYPES) : "";
    problems.add(
      childPath(path, "type"),
      type === undefined
        ? 'a rule needs "type": "filter", "regex" or "mask"'
        : `unknown rule type ${describe(type)}: use "filter", "regex" or "mask"${hint}`,
    );
    return undefined;
  }
  const kind = type as (typeof RULE_TYPES)[number];
  problems.unknownKeys(value, path, [...KEYS_BY_TYPE[kind], "operations"], `${kind} rule`);
  if (kind !== "filter" && value.operations !== undefined) {
    problems.add(
      childPath(path, "operations"),
      `a ${kind} rule applies to every build of a document: documents are rebuilt from the current rows, so a transform limited to some operations would leave a field masked or not depending on which change came last; remove "operations"`,
    );
  }
  const node = requiredString(
    value.node,
    childPath(path, "node"),
    'the node ("$root" or "$root.<label>...")',
    problems,
  );
  if (node !== undefined && node !== "$root" && !node.startsWith("$root.")) {
    problems.add(
      childPath(path, "node"),
      `a node is named by its labels from the root, like "$root" or "$root.${node}"`,
    );
  }
  const column = requiredString(value.column, childPath(path, "column"), "the column", problems);
  if (node === undefined || column === undefined) return undefined;
  const base = { path, node, column };

  if (kind === "filter") {
    const op = parseOp(value.op, childPath(path, "op"), problems);
    const filterValue = parseValue(value.value, childPath(path, "value"), problems);
    const operations = parseOperations(value.operations, childPath(path, "operations"), problems);
    if (op === undefined || filterValue === undefined || operations === null) return undefined;
    if (filterValue === null && op !== "eq" && op !== "ne") {
      problems.add(childPath(path, "value"), `"${op}" cannot compare with null; use "eq" or "ne" with null`);
      return undefined;
    }
    if (op === "contains" && typeof filterValue !== "string") {
      problems.add(
        childPath(path, "value"),
        `"contains" looks for a text; give a string, got ${describe(filterValue)}`,
      );
      return undefined;
    }
    if (ORDERING_OPS.includes(op) && typeof filterValue === "boolean") {
      problems.add(
        childPath(path, "value"),
        `"${op}" orders values; true and false have no order, use "eq" or "ne"`,
      );
      return undefined;
    }
    return { ...base, type: "filter", op, value: filterValue, operations };
  }

  if (kind === "regex") {
    const pattern = requiredString(
      value.pattern,
      childPath(path, "pattern"),
      "the regular expression",
      problems,
    );
    const replace = value.replace === undefined ? undefined : value.replace;
    if (replace === undefined)
      problems.add(path, 'a regex rule needs "replace" (the replacement text, "" to delete)');
    else if (typeof replace !== "string") {
      problems.add(
        childPath(path, "replace"),
        `expected the replacement text (a string), got ${describe(replace)}`,
      );
    }
    const flags = value.flags ?? "";
    if (typeof flags !== "string" || !REGEX_FLAGS.test(flags)) {
      problems.add(
        childPath(path, "flags"),
        `expected flags made of i, m, s and u (g is implied), got ${describe(flags)}`,
      );
      return undefined;
    }
    if (pattern === undefined || typeof replace !== "string") return undefined;
    const compiled = compileRuleRegex(pattern, flags);
    if (compiled.problem !== undefined) {
      problems.add(childPath(path, "pattern"), compiled.problem);
      return undefined;
    }
    return { ...base, type: "regex", pattern, replace, flags };
  }

  const maskChar = value.mask_char ?? "*";
  if (typeof maskChar !== "string" || [...maskChar].length !== 1) {
    problems.add(childPath(path, "mask_char"), `expected one character, got ${describe(maskChar)}`);
    return undefined;
  }
  return { ...base, type: "mask", maskChar };
}

function requiredString(value: JsonLike | undefined, path: string, what: string, problems: Problems) {
  if (value === undefined) {
    problems.add(path, `a rule needs ${what}`);
    return undefined;
  }
  return problems.string(value, path, what);
}

function parseOp(value: JsonLike | undefined, path: string, problems: Problems): FilterOp | undefined {
  if (typeof value === "string") {
    const op = OP_ALIASES[value] ?? value;
    if ((FILTER_OPS as readonly string[]).includes(op)) return op as FilterOp;
  }
  const names = [...FILTER_OPS, ...Object.keys(OP_ALIASES)];
  const hint = typeof value === "string" ? didYouMean(value, names) : "";
  problems.add(
    path,
    value === undefined
      ? `a filter needs "op": one of ${FILTER_OPS.join(", ")}`
      : `unknown comparison ${describe(value)}: use one of ${FILTER_OPS.join(", ")}${hint}`,
  );
  return undefined;
}

function parseValue(value: JsonLike | undefined, path: string, problems: Problems): FilterValue | undefined {
  if (value === undefined) {
    problems.add(path, 'a filter needs "value": the string, number, boolean or null to compare with');
    return undefined;
  }
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return value as FilterValue;
  problems.add(path, `expected a string, number, boolean or null, got ${describe(value)}`);
  return undefined;
}

/** `undefined` when absent; `null` after reporting a problem. */
function parseOperations(
  value: JsonLike | undefined,
  path: string,
  problems: Problems,
): RuleOperation[] | undefined | null {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(
      path,
      `expected a non-empty array of "insert", "update" and "delete", got ${describe(value)}`,
    );
    return null;
  }
  const result: RuleOperation[] = [];
  let ok = true;
  value.forEach((item, i) => {
    const op = typeof item === "string" ? item.toLowerCase() : item;
    if (typeof op === "string" && (RULE_OPERATIONS as readonly string[]).includes(op)) {
      if (result.includes(op as RuleOperation)) problems.add(childPath(path, i), `"${op}" is listed twice`);
      else result.push(op as RuleOperation);
      return;
    }
    ok = false;
    const hint = typeof op === "string" ? didYouMean(op, RULE_OPERATIONS) : "";
    problems.add(childPath(path, i), `expected "insert", "update" or "delete", got ${describe(item)}${hint}`);
  });
  return ok ? result : null;
}
