import type { ResolvedNode } from "../schema";
import type { IndexDocument } from "./builder";
import { DocumentError } from "./errors";
import { isJsonObject, type JsonObject, parseJson } from "./json";

const OPEN_BRACE = 0x7b;

/**
 * A document whose `_source` is parsed from PostgreSQL's text on first read. Until then the text
 * is what {@link sourceText} returns; the first read (or a write) of `_source` drops it, since a
 * caller may change the object it got and the text would no longer speak for it.
 *
 * `_source` is an own enumerable accessor, as a plain document's `_source` is a property of its
 * own: a spread copy, `JSON.stringify` and equality checks see it. Its getter and setter are two
 * functions shared by every document, and the text and the parsed object are private fields: an
 * object literal with its own accessor made two new closures per document, and keeping the text
 * beside it took a weak map, whose entries the garbage collector treats specially. This form, and
 * a batch that no longer holds its written documents, cut the consumer's CPU time per document in
 * the bootstrap by about a fifth (docs/project/benchmarks.md, "CPU per document").
 */
class TextDocument {
  readonly action = "index";
  declare _index: string;
  declare _id: string;
  declare key: string[];
  declare _source: JsonObject;
  declare pipeline?: string;
  #text: string | undefined;
  #parsed: JsonObject | undefined;

  /** The accessor of `_source`, one for all documents. */
  static readonly #source: PropertyDescriptor = {
    get(this: TextDocument): JsonObject {
      if (this.#parsed === undefined) {
        const value = parseJson(this.#text as string);
        if (!isJsonObject(value)) {
          throw new DocumentError(`document ${this._id} of ${this._index} is not a JSON object`);
        }
        this.#parsed = value;
      }
      this.#text = undefined;
      return this.#parsed;
    },
    set(this: TextDocument, value: JsonObject) {
      this.#text = undefined;
      this.#parsed = value;
    },
    enumerable: true,
    configurable: true,
  };

  constructor(_index: string, _id: string, key: string[], text: string) {
    this._index = _index;
    this._id = _id;
    this.key = key;
    this.#text = text;
    Object.defineProperty(this, "_source", TextDocument.#source);
  }

  /** PostgreSQL's text, while `_source` was never read nor replaced. */
  get text(): string | undefined {
    return this.#text;
  }
}

/**
 * The JSON text of `doc._source` as PostgreSQL returned it, when the document was built without
 * transforms or plugins and its `_source` has not been read since: a writer can send it as is
 * instead of serialising the parsed object again. Undefined otherwise.
 */
export function sourceText(doc: IndexDocument): string | undefined {
  return doc instanceof TextDocument ? doc.text : undefined;
}

/**
 * A document whose `_source` is parsed from `text` on first read (see `TextDocument`).
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
  const doc = new TextDocument(base._index, base._id, base.key, text);
  // Documents with routing are parsed (the value is read from the document), so only a pipeline.
  if (base.pipeline) doc.pipeline = base.pipeline;
  return doc as IndexDocument;
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
