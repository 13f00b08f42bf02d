import { describe, expect, it } from "vitest";
import { resolveWithCatalog, validateSchema } from "../../../lib/schema";
import { SHOP } from "../document/resolved";

const definition = (rules: unknown, nodes: unknown = customerTree) => [
  { database: SHOP.database, index: "customers", nodes, slotsync: { rules } },
];
const customerTree = {
  table: "customer",
  columns: ["id", "name", "email", "doc->>nick", "vip"],
  children: [
    {
      table: "orders",
      columns: ["id", "status", "total"],
      relationship: { type: "one_to_many", variant: "object" },
    },
  ],
};

function problemsOf(rules: unknown, nodes?: unknown): string[] {
  const { schema, problems } = validateSchema(definition(rules, nodes));
  if (!schema) return problems.map((p) => `${p.path}: ${p.message}`);
  const { problems: resolveProblems } = resolveWithCatalog(schema, SHOP);
  return resolveProblems.map((p) => `${p.path}: ${p.message}`);
}

describe("slotsync.rules: parsing", () => {
  it("reads filter, regex and mask rules, accepting pg_flo's gte/lte spellings", () => {
    const { schema, problems } = validateSchema(
      definition([
        { node: "$root", type: "filter", column: "vip", op: "eq", value: true },
        {
          node: "$root.orders",
          type: "filter",
          column: "total",
          op: "gte",
          value: 10,
          operations: ["INSERT", "update"],
        },
        { node: "$root", type: "regex", column: "name", pattern: "\\s+", replace: " ", flags: "i" },
        { node: "$root", type: "mask", column: "email" },
      ]),
    );
    expect(problems).toEqual([]);
    expect(schema?.[0]?.rules).toEqual([
      {
        path: "[0].slotsync.rules[0]",
        node: "$root",
        column: "vip",
        type: "filter",
        op: "eq",
        value: true,
        operations: undefined,
      },
      {
        path: "[0].slotsync.rules[1]",
        node: "$root.orders",
        column: "total",
        type: "filter",
        op: "ge",
        value: 10,
        operations: ["insert", "update"],
      },
      {
        path: "[0].slotsync.rules[2]",
        node: "$root",
        column: "name",
        type: "regex",
        pattern: "\\s+",
        replace: " ",
        flags: "i",
      },
      { path: "[0].slotsync.rules[3]", node: "$root", column: "email", type: "mask", maskChar: "*" },
    ]);
  });

  it("reports every shape problem with its JSON path", () => {
    const problems = problemsOf([
      "x",
      { node: "$root", type: "filtre", column: "vip" },
      { node: "root", type: "filter", column: "vip", op: "equals", value: 1 },
      { node: "$root", type: "filter", column: "vip", op: "gt", value: null },
      { node: "$root", type: "filter", column: "vip", op: "contains", value: 3 },
      { node: "$root", type: "filter", column: "vip", op: "eq", value: [1], operations: ["upsert"] },
      { node: "$root", type: "regex", column: "name", pattern: "(", replace: "" },
      { node: "$root", type: "mask", column: "name", mask_char: "##", operations: ["insert"] },
      { node: "$root", type: "regex", column: "name", pattern: "a", replace: "b", flags: "g", colour: 1 },
    ]);
    expect(problems).toEqual([
      '[0].slotsync.rules[0]: expected a rule (a JSON object with "node", "type" and "column"), got the string "x"',
      '[0].slotsync.rules[1].type: unknown rule type the string "filtre": use "filter", "regex" or "mask"; did you mean "filter"?',
      '[0].slotsync.rules[2].node: a node is named by its labels from the root, like "$root" or "$root.root"',
      expect.stringMatching(/^\[0\]\.slotsync\.rules\[2\]\.op: unknown comparison the string "equals"/),
      '[0].slotsync.rules[3].value: "gt" cannot compare with null; use "eq" or "ne" with null',
      '[0].slotsync.rules[4].value: "contains" looks for a text; give a string, got the number 3',
      "[0].slotsync.rules[5].value: expected a string, number, boolean or null, got an array",
      expect.stringMatching(
        /^\[0\]\.slotsync\.rules\[5\]\.operations\[0\]: expected "insert", "update" or "delete"/,
      ),
      expect.stringMatching(/^\[0\]\.slotsync\.rules\[6\]\.pattern: not a valid regular expression/),
      expect.stringMatching(/^\[0\]\.slotsync\.rules\[7\]\.operations: a mask rule applies to every build/),
      '[0].slotsync.rules[7].mask_char: expected one character, got the string "##"',
      expect.stringMatching(/^\[0\]\.slotsync\.rules\[8\]\.colour: unknown regex rule key "colour"/),
      expect.stringMatching(/^\[0\]\.slotsync\.rules\[8\]\.flags: expected flags made of i, m, s and u/),
    ]);
  });

  it("refuses unknown keys under slotsync", () => {
    const { problems } = validateSchema([{ database: "d", nodes: { table: "t" }, slotsync: { rulez: [] } }]);
    expect(problems.map((p) => p.path)).toEqual(["[0].slotsync.rulez"]);
  });
});

describe("slotsync.rules: checked against the tree and the catalog", () => {
  it("attaches row filters, change filters and value rules to their nodes", () => {
    const { schema } = validateSchema(
      definition([
        { node: "$root", type: "filter", column: "vip", op: "eq", value: true },
        {
          node: "$root.orders",
          type: "filter",
          column: "status",
          op: "ne",
          value: "void",
          operations: ["delete"],
        },
        { node: "$root", type: "mask", column: "doc->>nick", mask_char: "#" },
        { node: "$root", type: "regex", column: "name", pattern: "x", replace: "y" },
      ]),
    );
    if (!schema) throw new Error("schema expected");
    const { resolved, problems } = resolveWithCatalog(schema, SHOP);
    expect(problems).toEqual([]);
    const [root, orders] = resolved?.indices[0]?.nodes ?? [];
    expect(root?.rules.filters).toEqual([
      {
        path: "[0].slotsync.rules[0]",
        column: "vip",
        type: "boolean",
        baseType: "boolean",
        op: "eq",
        value: true,
      },
    ]);
    expect(root?.rules.values.map((v) => [v.type, v.field])).toEqual([
      ["mask", "doc_nick"],
      ["regex", "name"],
    ]);
    expect(orders?.rules.changeFilters.map((f) => [f.column, f.operations])).toEqual([
      ["status", ["delete"]],
    ]);
    expect(orders?.rules.filters).toEqual([]);
  });

  it("names unknown nodes and columns, wrong value types and non-text transforms", () => {
    expect(
      problemsOf([
        { node: "$root.order", type: "filter", column: "status", op: "eq", value: "x" },
        { node: "$root.orders", type: "filter", column: "stats", op: "eq", value: "x" },
        { node: "$root.orders", type: "filter", column: "total", op: "gt", value: "lots" },
        { node: "$root", type: "filter", column: "id", op: "eq", value: 1.5 },
        { node: "$root", type: "filter", column: "vip", op: "eq", value: "yes" },
        { node: "$root", type: "filter", column: "doc", op: "lt", value: "a" },
        { node: "$root", type: "mask", column: "vip" },
        { node: "$root", type: "regex", column: "nope", pattern: "a", replace: "" },
      ]),
    ).toEqual([
      expect.stringMatching(
        /^\[0\]\.slotsync\.rules\[0\]\.node: no node is at "\$root\.order" \(nodes: \$root, \$root\.orders\); did you mean "\$root\.orders"\?$/,
      ),
      expect.stringMatching(
        /^\[0\]\.slotsync\.rules\[1\]\.column: column "stats" does not exist in public\.orders; did you mean "status"\?$/,
      ),
      expect.stringMatching(/^\[0\]\.slotsync\.rules\[5\]\.op: "lt" orders values, and doc is jsonb/),
      expect.stringMatching(
        /^\[0\]\.slotsync\.rules\[6\]\.column: mask rules change text, and vip is boolean/,
      ),
      expect.stringMatching(/^\[0\]\.slotsync\.rules\[7\]\.column: "nope" is not a field of node \$root/),
      "[0].slotsync.rules[3].value: id is integer: compare it with an integer, not 1.5",
      '[0].slotsync.rules[4].value: vip is boolean: compare it with true or false, not "yes"',
      '[0].slotsync.rules[2].value: total is numeric: compare it with a number, not "lots"',
    ]);
  });
});

describe("regex rules run on RE2", () => {
  const rule = (pattern: string) =>
    validateSchema([
      {
        database: "d",
        nodes: { table: "t" },
        slotsync: { rules: [{ node: "$root", type: "regex", column: "name", pattern, replace: "" }] },
      },
    ]).problems;

  it("accepts JavaScript syntax RE2 runs, named groups included", () => {
    expect(rule("(?<year>\\d{4})-(\\d\\d)")).toEqual([]);
    expect(rule("(a+)+$")).toEqual([]);
    expect(rule("[(?=]\\(?!")).toEqual([]);
  });

  it.each([
    ["(\\w)\\1", /^backreferences \(\\1, \\k<name>\) need a backtracking engine.*match the repeated text/],
    ["(?<c>a)\\k<c>", /^backreferences/],
    ["a(?=b)", /^lookaround .*write it back with \$1 in "replace"$/],
    ["a(?!b)", /^lookaround/],
    ["(?<=a)b", /^lookaround/],
    ["(?<!a)b", /^lookaround/],
    ["(", /^not a valid regular expression \(missing closing \)\); rules use RE2 syntax/],
    ["a{2,1}", /^not a valid regular expression \(invalid repeat count\)/],
  ])("refuses %s at the pattern's path, with the fix", (pattern, message) => {
    const problems = rule(pattern);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe("[0].slotsync.rules[0].pattern");
    expect(problems[0]?.message).toMatch(message);
  });
});
