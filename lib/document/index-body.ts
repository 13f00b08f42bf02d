import type { IndexSpec, JsonLike, JsonLikeObject, NodeSpec } from "../schema";

/** The body of Elasticsearch's create-index request. */
export interface IndexBody {
  settings?: JsonLikeObject;
  mappings?: JsonLikeObject;
}

/**
 * The create-index body for an index definition.
 *
 * - `setting` becomes `settings.index`, as PGSync sends it.
 * - Mappings are merged from three sources, later ones winning field by field: the nodes'
 *   `transform.mapping` (a field named before rename is mapped under its new name, children
 *   nest under `properties.<label>`), then the top-level `mapping` (field mappings, or a whole
 *   mappings object when it has `dynamic_templates`), then the top-level `mappings` object.
 *   PGSync ignores the node mappings when a top-level `mapping` exists; merging keeps both, so a
 *   schema that nests `authors` at the top and types `authors.name` on the node gets both.
 * - With `routing`, `_routing.required` is set so a document indexed without routing is refused.
 */
export function buildIndexBody(spec: IndexSpec): IndexBody {
  const body: IndexBody = {};
  if (spec.setting) body.settings = { index: spec.setting };

  let mappings: JsonLikeObject = {};
  const derived = nodeMapping(spec.nodes);
  if (derived) mappings = derived;
  if (spec.mapping) {
    const whole = "dynamic_templates" in spec.mapping;
    mappings = merge(mappings, whole ? spec.mapping : { properties: spec.mapping });
  }
  if (spec.mappings) mappings = merge(mappings, spec.mappings);
  if (spec.routing && !("_routing" in mappings)) mappings = { ...mappings, _routing: { required: true } };
  if (Object.keys(mappings).length > 0) body.mappings = mappings;
  return body;
}

function nodeMapping(node: NodeSpec): JsonLikeObject | undefined {
  const properties: JsonLikeObject = {};
  for (const [field, definition] of Object.entries(node.transform.mapping)) {
    properties[node.transform.rename[field] ?? field] = definition;
  }
  for (const child of node.children) {
    const mapping = nodeMapping(child);
    if (!mapping) continue;
    const field = node.transform.rename[child.label] ?? child.label;
    const existing = properties[field];
    properties[field] = isObject(existing) ? merge(existing, mapping) : mapping;
  }
  return Object.keys(properties).length > 0 ? { properties } : undefined;
}

function isObject(value: JsonLike | undefined): value is JsonLikeObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge of JSON objects; `b` wins where both have a non-object value. */
function merge(a: JsonLikeObject, b: JsonLikeObject): JsonLikeObject {
  const result: JsonLikeObject = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const existing = result[key];
    result[key] = isObject(existing) && isObject(value) ? merge(existing, value) : value;
  }
  return result;
}
