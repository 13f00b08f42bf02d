/**
 * What may be shown and where credentials may travel: redaction of URLs and messages for every
 * output, and the loopback test behind "TLS except on this machine".
 */
export { isLoopbackHost, plainHttpProblem } from "./loopback";
export { redactSecrets, redactText, redactUrl, redactUrlsIn, urlCarriesCredentials } from "./redact";
