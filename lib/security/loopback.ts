/** True for `localhost`, `127.0.0.0/8` and `::1`: traffic that never leaves this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Why `url` may not carry `what` (a token, a password, signed data): plain http to a host other
 * than this machine sends it in the clear. Undefined when the URL is https, loopback or unparsable
 * (parsing problems are reported by the caller, without the value).
 */
export function plainHttpProblem(url: string, what: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== "http:" || isLoopbackHost(u.hostname)) return undefined;
  return `uses plain http to ${u.host}, which would send ${what} in the clear; use https:// (plain http is allowed only to localhost, 127.0.0.1 and ::1)`;
}
