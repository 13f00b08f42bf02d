import { type DocumentResult, sourceText } from "../document";
import { type SinkOperation, SourceText } from "../sink";

/** The sink operation that writes a built document (or removes it) at `version`. */
export function documentOperation(
  result: DocumentResult,
  version: bigint,
  index: string,
  records: string[],
): SinkOperation {
  if (result.action === "delete") return { kind: "delete", index, id: result._id, version, ref: records };
  // PostgreSQL's own text, when nothing changed the document: sent without parsing it. A line
  // break (a json value inside a composite column) would split the NDJSON line: parse those.
  const raw = sourceText(result);
  const text = raw === undefined || raw.includes("\n") || raw.includes("\r") ? undefined : raw;
  return {
    kind: "index",
    index,
    id: result._id,
    version,
    source: text === undefined ? result._source : new SourceText(text),
    ...(result.routing === undefined ? {} : { routing: result.routing }),
    ...(result.pipeline === undefined ? {} : { pipeline: result.pipeline }),
    ref: records,
  };
}
