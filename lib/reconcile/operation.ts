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
  // PostgreSQL's own text, when nothing changed the document: sent without parsing it. Text with
  // a line break, \n or \r (a json value inside a composite column), is parsed instead (SourceText.of).
  const text = sourceText(result);
  const source = (text === undefined ? undefined : SourceText.of(text)) ?? result._source;
  const op: SinkOperation = { kind: "index", index, id: result._id, version, source, ref: records };
  if (result.routing !== undefined) op.routing = result.routing;
  if (result.pipeline !== undefined) op.pipeline = result.pipeline;
  return op;
}
