/**
 * PostgreSQL errors that a change of the database's structure can cause in the queries a schema
 * makes (SQLSTATE codes). Such an error is not proof of drift: it only makes the caller run the
 * catalog check, which decides.
 */
export const DRIFT_SQLSTATES: Readonly<Record<string, string>> = {
  "42703": "undefined_column",
  "42P01": "undefined_table",
  "3F000": "invalid_schema_name",
  "42704": "undefined_object",
  "42804": "datatype_mismatch",
  "42883": "undefined_function",
  "42846": "cannot_coerce",
  "42809": "wrong_object_type",
  "22P02": "invalid_text_representation",
  "22003": "numeric_value_out_of_range",
};

/**
 * The SQLSTATE of the first PostgreSQL error in `error`'s cause chain that suggests schema drift,
 * or undefined. slotsync wraps database errors in its own, so the chain is followed a few levels.
 */
export function driftSqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code in DRIFT_SQLSTATES) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when `error` suggests that the database no longer matches the schema. */
export function suggestsDrift(error: unknown): boolean {
  return driftSqlState(error) !== undefined;
}
