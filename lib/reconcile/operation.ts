import type { DocumentResult } from "../document";
import type { SinkOperation } from "../sink";

/** The sink operation that writes a built document (or removes it) at `version`. */
export function documentOperation(
  result: DocumentResult,
  version: bigint,
  index: string,
  records: string[],
): SinkOperation {
  if (result.action === "delete") return { kind: "delete", index, id: result._id, version, ref: records };
  return {
    kind: "index",
    index,
    id: result._id,
    version,
    source: result._source,
    ...(result.routing === undefined ? {} : { routing: result.routing }),
    ...(result.pipeline === undefined ? {} : { pipeline: result.pipeline }),
    ref: records,
  };
}
