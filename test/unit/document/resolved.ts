import { type Catalog, parseSchema, type ResolvedIndex, resolveWithCatalog } from "../../../lib/schema";
import { catalog, table } from "../schema/catalog-fixture";

/** A small shop catalog for document tests that need a resolved index but no database. */
export const SHOP: Catalog = catalog(
  table("customer", ["id", "name:text", "email:text", "doc:jsonb", "vip:boolean"]),
  table("orders", ["id", "customer_id", "status:text", "total:numeric"], {
    fks: [[["customer_id"], "customer", ["id"]]],
  }),
  table("order_line", ["order_id", "line_no", "sku:text", "qty"], {
    pk: ["order_id", "line_no"],
    fks: [[["order_id"], "orders", ["id"]]],
  }),
  table("profile", ["id", "customer_id", "bio:text"], {
    unique: [["customer_id"]],
    fks: [[["customer_id"], "customer", ["id"]]],
  }),
  table("note", ["id", "customer_id", "body:text"], { fks: [[["customer_id"], "customer", ["id"]]] }),
  table("tag", ["id", "name:text"]),
  table("customer_tag", ["customer_id", "tag_id"], {
    pk: ["customer_id", "tag_id"],
    fks: [
      [["customer_id"], "customer", ["id"]],
      [["tag_id"], "tag", ["id"]],
    ],
  }),
  table("flag", ["code:text", "region:text", "enabled:boolean"], { pk: ["code", "enabled"] }),
);

/** Resolves one index definition against `cat` (SHOP by default), throwing on problems. */
export function resolveIndex(definition: Record<string, unknown>, cat: Catalog = SHOP): ResolvedIndex {
  const spec = parseSchema([{ database: cat.database, index: "test", ...definition }]);
  const { resolved, problems } = resolveWithCatalog(spec, cat);
  if (!resolved?.indices[0]) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
  return resolved.indices[0];
}
