import { describe, expect, it } from "vitest";
import {
  redactSecrets,
  redactText,
  redactUrl,
  redactUrlsIn,
  urlCarriesCredentials,
} from "../../../lib/security";

const presigned =
  "https://bucket.s3.amazonaws.com/schema.json?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101&X-Amz-Signature=abcdef0123";

describe("redactUrl", () => {
  it("keeps scheme, host, port and path; drops user, password, query and fragment", () => {
    expect(redactUrl("http://user:secret@host:9200/")).toBe("http://host:9200");
    expect(redactUrl(presigned)).toBe("https://bucket.s3.amazonaws.com/schema.json?…");
    expect(redactUrl("https://h/p#token=x")).toBe("https://h/p?…");
    expect(redactUrl("https://hooks.example.com/services/T0/B0/xyz", { path: false })).toBe(
      "https://hooks.example.com",
    );
    expect(redactUrl("s3://bucket/key.json")).toBe("s3://bucket/key.json");
  });

  it("never echoes what is not a URL (it may be a secret pasted in the wrong place)", () => {
    expect(redactUrl("hunter2-not-a-url")).toBe("(invalid URL)");
    expect(redactUrl("mailto:someone-secret")).toBe("mailto:(redacted)");
  });
});

describe("urlCarriesCredentials", () => {
  it.each([
    ["https://u:p@h/x", true],
    [presigned, true],
    ["https://acct.blob.core.windows.net/c/s.json?sv=2020&sig=abc", true],
    ["https://h/s.json?token=abc", true],
    ["https://h/s.json?version=3", false],
    ["https://h/s.json", false],
    ["not a url", false],
  ])("%s -> %s", (url, expected) => {
    expect(urlCarriesCredentials(url)).toBe(expected);
  });
});

describe("redactText", () => {
  it("redacts every URL in free text and every given secret in its plain, base64 and URL forms", () => {
    const text = `fetch ${presigned} failed (see https://a:b@h:1/x). token s3cr3t-token ${Buffer.from("s3cr3t-token").toString("base64")}`;
    const out = redactText(text, ["s3cr3t-token"]);
    expect(out).toBe(
      "fetch https://bucket.s3.amazonaws.com/schema.json?… failed (see https://h:1/x). token [redacted] [redacted]",
    );
    expect(redactUrlsIn("no urls here")).toBe("no urls here");
    expect(redactSecrets("abc", ["abc"])).toBe("abc");
  });
});
