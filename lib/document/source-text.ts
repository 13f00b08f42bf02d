import type { ResolvedNode } from "../schema";
import type { IndexDocument } from "./builder";
import { DocumentError } from "./errors";
import { isJsonObject, type JsonObject, parseJson } from "./json";

/**
 * The JSON text PostgreSQL returned for a document, kept while nobody has read its `_source`.
 * A weak map, so the text goes with the document and never shows among its properties.
 */
const texts = new WeakMap<IndexDocument, string>();

const OPEN_BRACE = 0x7b;

/**
 * The JSON text of `doc._source` as PostgreSQL returned it, when the document was built without
 * transforms or plugins and its `_source` has not been read since: a writer can send it as is
 * instead of serialising the parsed object again. Undefined otherwise.
 */
export function sourceText(doc: IndexDocument): string | undefined {
  return texts.get(doc);
}

/**
 * A document whose `_source` is parsed from `text` on first read. Until then the text is what
 * {@link sourceText} returns; the first read (or a write) of `_source` drops it, since a caller
 * may change the object it got and the text would no longer speak for it.
 * @throws DocumentError when the text is not a JSON object.
 */
export function documentFromText(
  base: { _index: string; _id: string; key: string[]; pipeline?: string | undefined },
  text: string,
): IndexDocument {
  // The statement builds the document with json_build_object, so anything else is a bug to report.
  if (text.charCodeAt(0) !== OPEN_BRACE && !/^\s*\{/.test(text)) {
    throw new DocumentError(`document ${base._id} of ${base._index} is not a JSON object`);
  }
  let parsed: JsonObject | undefined;
  // Accessors written in the literal (no spread, no defineProperty): V8 then builds every such
  // document from one boilerplate, where a spread or defineProperty takes its slow path each time.
  const doc: IndexDocument = {
    action: "index",
    _index: base._index,
    _id: base._id,
    key: base.key,
    get _source(): JsonObject {
      texts.delete(doc);
      if (parsed === undefined) {
        const value = parseJson(text);
        if (!isJsonObject(value)) {
          throw new DocumentError(`document ${base._id} of ${base._index} is not a JSON object`);
        }
        parsed = value;
      }
      return parsed;
    },
    set _source(value: JsonObject) {
      texts.delete(doc);
      parsed = value;
    },
  };
  // Documents with routing are parsed (the value is read from the document), so only a pipeline.
  if (base.pipeline) doc.pipeline = base.pipeline;
  texts.set(doc, text);
  return doc;
}

/**
 * True when PostgreSQL's text of a node's documents can go to the engine as is. A `json` column
 * (not `jsonb`) is embedded verbatim, duplicate keys included, which the engines refuse
 * ("Duplicate field"), while parsing keeps the last value as PGSync's does: such documents are
 * parsed and written again.
 */
export function textIsSendable(node: ResolvedNode): boolean {
  for (const column of node.columns) {
    const baseType = node.table.columns.find((c) => c.name === column.column)?.baseType ?? column.type;
    if (/^json(\[\])*$/.test(baseType)) return false;
  }
  return node.children.every(textIsSendable);
}
