/**
 * Redaction: the one place that decides what of a URL or a message may reach output. Every
 * message, log line and status line that shows a URL or may echo a secret goes through here.
 */

/**
 * Query parameters that carry a credential or a signature: AWS SigV4 presigned URLs
 * (`X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`), Azure SAS (`sig`), and the
 * usual token and key names.
 */
const CREDENTIAL_PARAM =
  /^(x-amz-.*|sig|signature|token|access_token|auth|key|api[-_]?key|code|secret|password|credential|x-goog-.*)$/i;

export interface RedactUrlOptions {
  /** Keep the path (default true). A webhook's path is often its secret (`/services/T0/B0/xyz`). */
  path?: boolean;
}

/**
 * A URL fit for output: scheme, host, port and (unless `path: false`) path; never the user,
 * password, query string or fragment, which is where credentials and signatures live.
 * Not a URL at all: `(invalid URL)`, since the text may be a secret pasted in the wrong place.
 */
export function redactUrl(url: string, options: RedactUrlOptions = {}): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "(invalid URL)";
  }
  if (u.host === "" && u.protocol !== "file:") return `${u.protocol}(redacted)`;
  const path = options.path === false ? "" : u.pathname === "/" ? "" : u.pathname;
  const base = u.protocol === "file:" ? `file://${u.pathname}` : `${u.protocol}//${u.host}${path}`;
  return u.search || u.hash ? `${base}?…` : base;
}

/** True when a URL carries credentials: a user or password, or a query parameter that signs or authorizes. */
export function urlCarriesCredentials(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username !== "" || u.password !== "") return true;
  for (const name of u.searchParams.keys()) if (CREDENTIAL_PARAM.test(name)) return true;
  return false;
}

/**
 * Every URL in free text (an error message from a library, a response body) made safe the same
 * way as {@link redactUrl}: user, password, query string and fragment removed.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi, (match) => {
    const trailing = /[).,;:]+$/.exec(match)?.[0] ?? "";
    const url = trailing ? match.slice(0, -trailing.length) : match;
    const redacted = redactUrl(url);
    return `${redacted === "(invalid URL)" ? "(URL)" : redacted}${trailing}`;
  });
}

/**
 * Removes every occurrence of each secret (and of its base64 and URL-encoded forms, as they appear
 * in a Basic or ApiKey header and in URLs) from `text`. Secrets shorter than 4 characters are left
 * alone: replacing them would mangle ordinary words and they protect nothing anyway.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of [secret, Buffer.from(secret).toString("base64"), encodeURIComponent(secret)]) {
      out = out.split(form).join("[redacted]");
    }
  }
  return out;
}

/** Free text made fit for output: the given secrets removed, then every URL in it redacted. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  return redactUrlsIn(redactSecrets(text, secrets));
}
