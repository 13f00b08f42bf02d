/**
 * Elasticsearch / OpenSearch index name rules (create index API): lowercase; none of
 * `\ / * ? " < > | , #`, space or `:`; not starting with `-`, `_` or `+`; not `.` or `..`;
 * at most 255 bytes.
 *
 * @returns a message describing the first rule broken, or undefined when the name is valid.
 */
export function indexNameProblem(name: string): string | undefined {
  if (name.length === 0) return "the index name must not be empty";
  if (name !== name.toLowerCase()) {
    return `index name "${name}" must be lowercase (Elasticsearch rejects uppercase); use "${name.toLowerCase()}"`;
  }
  const bad = name.match(/[\\/*?"<>|,# :]/);
  if (bad) {
    return `index name "${name}" contains "${bad[0]}", which Elasticsearch does not allow in index names`;
  }
  if (/^[-_+]/.test(name)) {
    return `index name "${name}" must not start with "-", "_" or "+"`;
  }
  if (name === "." || name === "..") return `index name "${name}" is reserved`;
  if (Buffer.byteLength(name, "utf8") > 255) {
    return "the index name is longer than 255 bytes; shorten it";
  }
  return undefined;
}
