import type { Queryable, ResolvedIndex } from "../schema";
import { DocumentError, PluginError } from "./errors";
import { isJsonObject, type JsonObject, type JsonValue, parseJson } from "./json";
import { documentId, keyText, type RootKey } from "./keys";
import { type DocumentPlugin, isDropped, type LoadPluginsOptions, loadPlugins } from "./plugins";
import { documentFromText, textIsSendable } from "./source-text";
import { buildKeysQuery, buildRangeQuery, type KeyRange, type KeysRow, type RangeRow } from "./sql-query";
import { createTransformer, type Transformer } from "./transform";

/** A document to write. */
export interface IndexDocument {
  action: "index";
  _index: string;
  _id: string;
  /** The root key, one text value per primary key column. */
  key: string[];
  _source: JsonObject;
  /** Shard routing value, from the schema's `routing` field of the document (before plugins). */
  routing?: string;
  /** The schema's ingest pipeline. */
  pipeline?: string;
}

/** A document to remove: its root row is gone, or a plugin dropped it. */
export interface DeleteDocument {
  action: "delete";
  _index: string;
  _id: string;
  key: string[];
  reason: "missing" | "dropped";
}

export type DocumentResult = IndexDocument | DeleteDocument;

export interface RangeResult {
  documents: DocumentResult[];
  /** Key of the last root row read; pass it as `after` for the next page. Undefined when none. */
  lastKey: string[] | undefined;
  /** True when the range may hold more rows (a full page came back). */
  more: boolean;
  /** Characters of document text the page's rows came in: what the next page's size is fitted to. */
  textLength: number;
}

/** The documents of a set of root keys, with the text they were built from. */
export interface KeysResult {
  documents: DocumentResult[];
  /** Characters of document text the root rows came in. */
  textLength: number;
  /** Root rows found, which the text came in (a key without a row is a deletion, with no text). */
  textRows: number;
}

export interface DocumentBuilderOptions {
  /** The plugins the schema names, already loaded (see {@link loadPlugins}); others are ignored. */
  plugins?: readonly DocumentPlugin[];
}

/**
 * Builds the documents of one index from the database: one SQL statement per batch of root keys
 * (or per page of a key range), then transforms and plugins in process.
 */
export class DocumentBuilder {
  private readonly transformer: Transformer | undefined;
  private readonly plugins: readonly DocumentPlugin[];
  /** True when documents can keep PostgreSQL's text as their source (see `sourceText`). */
  private readonly keepsText: boolean;

  constructor(
    readonly index: ResolvedIndex,
    options: DocumentBuilderOptions = {},
  ) {
    this.transformer = createTransformer(index);
    // Plugins run in the order the schema lists them, whatever order they were supplied in.
    const supplied = options.plugins ?? [];
    const missing = index.spec.plugins.filter((name) => !supplied.some((p) => p.name === name));
    if (missing.length > 0) {
      throw new PluginError(
        `plugins ${missing.join(", ")} named by ${index.spec.path}.plugins were not supplied`,
        {
          fix: "load them with loadPlugins(index.spec.plugins, ...) or createDocumentBuilder",
        },
      );
    }
    this.plugins = index.spec.plugins.map((name) => supplied.find((p) => p.name === name) as DocumentPlugin);
    // Routing reads a field of the document, so it needs the parsed object anyway.
    this.keepsText =
      this.transformer === undefined &&
      this.plugins.length === 0 &&
      index.spec.routing === undefined &&
      textIsSendable(index.root);
  }

  /**
   * Builds the documents of `keys`, one result per distinct key in the order given. A key with no
   * root row comes back as a delete with reason "missing".
   * @throws DocumentError when a key does not fit the primary key or the query fails.
   */
  async build(client: Queryable, keys: readonly RootKey[]): Promise<DocumentResult[]> {
    return (await this.buildKeys(client, keys)).documents;
  }

  /**
   * {@link build}, also telling how much document text the rows came in: what a caller that
   * sizes its queries by text (the consumer) fits the next one to.
   * @throws DocumentError when a key does not fit the primary key or the query fails.
   */
  async buildKeys(client: Queryable, keys: readonly RootKey[]): Promise<KeysResult> {
    const texts = new Map<string, string[]>();
    for (const key of keys) {
      const text = keyText(this.index.root.table, key);
      texts.set(JSON.stringify(text), text);
    }
    const result: KeysResult = { documents: [], textLength: 0, textRows: 0 };
    if (texts.size === 0) return result;
    const query = buildKeysQuery(this.index, [...texts.values()]);
    const rows = await this.run<KeysRow>(client, query.text, query.values);
    // "02" and "2" are different texts but one key: PostgreSQL's canonical key decides.
    const seen = new Set<string>();
    for (const row of rows) {
      const canonical = JSON.stringify(row.key);
      if (seen.has(canonical)) continue;
      seen.add(canonical);
      if (row.doc === null) {
        result.documents.push(this.deletion(row.key, "missing"));
        continue;
      }
      result.textLength += row.doc.length;
      result.textRows++;
      result.documents.push(await this.document(row.key, row.doc));
    }
    return result;
  }

  /** Builds the next page of documents of a key range, in key order (for bootstrap). */
  async buildRange(client: Queryable, range: KeyRange): Promise<RangeResult> {
    const query = buildRangeQuery(this.index, range);
    const rows = await this.run<RangeRow>(client, query.text, query.values);
    const documents: DocumentResult[] = [];
    let textLength = 0;
    for (const row of rows) {
      textLength += row.doc.length;
      documents.push(await this.document(row.key, row.doc));
    }
    return { documents, lastKey: rows.at(-1)?.key, more: rows.length === range.limit, textLength };
  }

  /**
   * The next page of root keys of a key range, in key order, without building documents: the
   * roots the index should have a document for (row filters applied; a plugin may still drop one).
   */
  async rootKeys(client: Queryable, range: KeyRange): Promise<{ keys: string[][]; more: boolean }> {
    const query = buildRangeQuery(this.index, range, true);
    const rows = await this.run<{ key: string[] }>(client, query.text, query.values);
    return { keys: rows.map((r) => r.key), more: rows.length === range.limit };
  }

  private async run<R extends object>(client: Queryable, text: string, values: unknown[]): Promise<R[]> {
    try {
      return (await client.query<R>(text, values)).rows;
    } catch (err) {
      throw new DocumentError(
        `building documents of index ${this.index.spec.index} failed: ${(err as Error).message}`,
        {
          cause: err,
          where: this.index.spec.path,
          retryable: isTransient(err),
        },
      );
    }
  }

  private deletion(key: string[], reason: DeleteDocument["reason"]): DeleteDocument {
    return {
      action: "delete",
      _index: this.index.spec.index,
      _id: documentId(this.index.root.table, key),
      key,
      reason,
    };
  }

  private async document(key: string[], text: string): Promise<DocumentResult> {
    const _index = this.index.spec.index;
    const _id = documentId(this.index.root.table, key);
    if (this.keepsText)
      return documentFromText({ _index, _id, key, pipeline: this.index.spec.pipeline }, text);
    const parsed = parseJson(text);
    if (!isJsonObject(parsed)) throw new DocumentError(`document ${_id} of ${_index} is not a JSON object`);
    let source = this.transformer ? this.transformer(parsed) : parsed;

    // PGSync reads routing from the transformed row before plugins run.
    const routingField = this.index.spec.routing;
    const routingValue: JsonValue | undefined = routingField === undefined ? undefined : source[routingField];
    for (const plugin of this.plugins) {
      let result: Awaited<ReturnType<DocumentPlugin["transform"]>>;
      try {
        result = await plugin.transform(source, { _id, _index });
      } catch (err) {
        throw new PluginError(
          `plugin "${plugin.name}" failed on document ${_id}: ${(err as Error).message}`,
          {
            cause: err,
            where: `${_index}/${_id}`,
          },
        );
      }
      if (isDropped(result)) return this.deletion(key, "dropped");
      source = result;
    }
    const doc: IndexDocument = { action: "index", _index, _id, key, _source: source };
    if (routingValue !== undefined && routingValue !== null) doc.routing = String(routingValue);
    if (this.index.spec.pipeline) doc.pipeline = this.index.spec.pipeline;
    return doc;
  }
}

/**
 * Loads the plugins an index names and returns a builder for it.
 * @throws PluginError when a plugin cannot be found.
 */
export async function createDocumentBuilder(
  index: ResolvedIndex,
  options: LoadPluginsOptions = {},
): Promise<DocumentBuilder> {
  const plugins = await loadPlugins(index.spec.plugins, options);
  return new DocumentBuilder(index, { plugins });
}

/** Connection losses, serialization failures and the like: worth another try. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") return true; // no SQLSTATE: a network-level failure
  return code.startsWith("08") || code.startsWith("40") || code.startsWith("53") || code === "57P01";
}
