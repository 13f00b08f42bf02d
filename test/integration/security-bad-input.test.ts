// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} references are what these cases are about
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type CliResult, runCli, scratchDir } from "../support/cli";
import { getServices } from "../support/services";

/**
 * Bad input, as an attacker or a careless operator gives it, to the real CLI (`bin/slotsync.js`
 * as a child process). Every case asserts the exit code, the message (the place: a JSON path or a
 * variable, and the fix) and that none of the known secret values below shows in stdout or stderr
 * (stderr is where the CLI logs).
 */

/** Known secret values, present in every child's environment. */
const SECRET = {
  pgPassword: "pgpw-Sx7Qk2Lm9",
  upstashToken: "upstash-tok-Vb3Nc8Rz1",
  esApiKey: "es-api-key-Hd5Jt6Wq4",
  webhookSecret: "whsec-Pz2Yx9Kf7",
  awsSecret: "aws-secret-Ga1Tb4Ue8",
  schemaSignature: "sig-Mn6Rq3Lp0",
  urlToken: "urltok-Ce5Wd2Xa9",
};
const SECRET_ENV: Record<string, string> = {
  UPSTASH_REDIS_REST_TOKEN: SECRET.upstashToken,
  ELASTICSEARCH_API_KEY: SECRET.esApiKey,
  WEBHOOK_SECRET: SECRET.webhookSecret,
  AWS_SECRET_ACCESS_KEY: SECRET.awsSecret,
};
/** A database nobody listens on: no test depends on a server for these cases. */
const DEAD_PG = `postgresql://app:${SECRET.pgPassword}@127.0.0.1:1/shop`;

let scratch: Awaited<ReturnType<typeof scratchDir>>;
let server: Server;
let base: string;
let dir: string;

/** A valid schema whose index name comes from the environment. */
const schemaWith = (index: string, extra: object = {}) =>
  JSON.stringify([{ database: "shop", index, nodes: { table: "book", columns: ["id"] }, ...extra }]);

beforeAll(async () => {
  scratch = await scratchDir("security-bad-input");
  dir = scratch.dir;
  server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith("/not-upstash")) {
      // Some other JSON API: answers, but not as Upstash does.
      res.setHeader("content-type", "application/json");
      res.end('{"ok":true}');
      return;
    }
    switch (path) {
      case "/schema.json":
        res.end(schemaWith("books"));
        return;
      case "/to-plain-http":
        res.writeHead(302, { location: "http://example.com/schema.json" }).end();
        return;
      case "/to-file":
        res.writeHead(301, { location: "file:///etc/passwd" }).end();
        return;
      case "/loop":
        res.writeHead(302, { location: "/loop" }).end();
        return;
      case "/to-loopback":
        res.writeHead(302, { location: `/schema.json?token=${SECRET.urlToken}` }).end();
        return;
      case "/huge": {
        // 11 MiB of JSON-looking text, more than the 10 MiB cap; written until the client gives up.
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 11 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        res.on("error", () => undefined);
        pump();
        return;
      }
      case "/huge-declared":
        res.writeHead(200, { "content-length": String(50 * 1024 * 1024) });
        res.write("[");
        return; // the client refuses on the header; the socket closes with the server
      case "/never-ends":
        res.writeHead(200, { "content-type": "application/json" });
        res.write("[");
        return; // never ends
      default:
        res.writeHead(404).end(`no such schema: ${req.url}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  await writeFile(join(dir, "good.json"), schemaWith("books"));
  await writeFile(join(dir, "bom.json"), `\uFEFF${schemaWith("books")}`);
  await writeFile(
    join(dir, ".env.secret"),
    `PG_URL=${DEAD_PG}\nUPSTASH_REDIS_REST_TOKEN=${SECRET.upstashToken}\n`,
  );
  await writeFile(
    join(dir, "broken.json"),
    `[{"database": "shop", "index": "${SECRET.urlToken}" "nodes": {"table": "book"}}]`,
  );
  await writeFile(join(dir, "truncated.json"), '[{"database": "shop"');
  await writeFile(join(dir, "empty.json"), "");
  await writeFile(join(dir, "deep.json"), `${"[".repeat(3000)}${"]".repeat(3000)}`);
  await writeFile(join(dir, "deep-nodes.json"), JSON.stringify([{ database: "shop", nodes: nest(1500) }]));
  await writeFile(join(dir, "index-pg-url.json"), schemaWith("${PG_URL}"));
  await writeFile(
    join(dir, "concat-token.json"),
    schemaWith("books", {
      nodes: {
        table: "book",
        columns: ["id"],
        transform: { concat: [{ columns: ["${UPSTASH_REDIS_REST_TOKEN}"], destination: "t" }] },
      },
    }),
  );
  await writeFile(join(dir, "aws-secret.json"), schemaWith("${AWS_SECRET_ACCESS_KEY}"));
  await writeFile(join(dir, "not-allowed.json"), schemaWith("${HOME}"));
  await writeFile(join(dir, "allowed-but-secret.json"), schemaWith("${ELASTICSEARCH_API_KEY}"));
  await writeFile(join(dir, "upper-index.json"), schemaWith("${SLOTSYNC_SCHEMA_INDEX}"));
  await writeFile(join(dir, "unset.json"), schemaWith("${SLOTSYNC_SCHEMA_MISSING}"));
  const regex = (pattern: string) =>
    schemaWith("books", {
      slotsync: { rules: [{ node: "$root", type: "regex", column: "id", pattern, replace: "" }] },
    });
  await writeFile(join(dir, "backreference.json"), regex("(\\w)\\1"));
  await writeFile(join(dir, "lookahead.json"), regex("a(?=b)"));
  await writeFile(join(dir, "lookbehind.json"), regex("(?<!a)b"));
  await writeFile(join(dir, "bad-regex.json"), regex("(a"));
  await mkdir(join(dir, "a-directory"), { recursive: true });
  await writeFile(
    join(dir, "env-swallows"),
    `A=1\nUPSTASH_REDIS_REST_TOKEN="${SECRET.upstashToken}\nPG_URL=${DEAD_PG}\nX="y"\n`,
  );
  await writeFile(join(dir, "env-unclosed"), `A=1\nWEBHOOK_SECRET='${SECRET.webhookSecret}\nB=2\n`);
  await writeFile(
    join(dir, "env-multiline"),
    `CERT="-----BEGIN X-----\nMIIabc\n-----END X-----"\nSLOTSYNC_SCHEMA_INDEX=books\n`,
  );
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server?.closeAllConnections();
  await scratch?.remove();
});

function nest(depth: number): object {
  let node: object = { table: "leaf" };
  for (let i = 0; i < depth; i++) node = { table: `t${i}`, children: [node] };
  return node;
}

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  code: number;
  /** Every pattern must match the output (stdout then stderr; only stdout when `stream` says so). */
  message: RegExp[];
  stream?: "stdout" | "stderr";
}

function expectNoSecret(result: CliResult): void {
  const output = `${result.stdout}\n${result.stderr}`;
  for (const value of Object.values(SECRET)) expect(output, `secret ${value} leaked`).not.toContain(value);
  // Nor the base64 form a Basic or ApiKey header would carry.
  for (const value of Object.values(SECRET))
    expect(output).not.toContain(Buffer.from(value).toString("base64"));
}

async function check(c: Case): Promise<void> {
  const result = await runCli(c.args, { cwd: dir, env: { ...SECRET_ENV, ...c.env } });
  const text = c.stream === "stdout" ? result.stdout : `${result.stdout}\n${result.stderr}`;
  expect(result.code, `${c.name}: exit code (stderr: ${result.stderr})`).toBe(c.code);
  for (const pattern of c.message) expect(text, c.name).toMatch(pattern);
  expectNoSecret(result);
}

const validate = (schema: string, env: Record<string, string> = {}) => ({
  args: ["validate", "--offline", "--schema", schema],
  env,
});

describe("schema.json: ${NAME} reads only what the operator allows, never a secret", () => {
  const cases: Case[] = [
    {
      name: "index from PG_URL",
      ...validate("index-pg-url.json", { PG_URL: DEAD_PG, SCHEMA_ENV_ALLOW: "PG_URL" }),
      code: 2,
      message: [/^\[0\]\.index: PG_URL holds a secret or a credential.*SLOTSYNC_SCHEMA_<NAME> instead$/m],
    },
    {
      name: "concat of the Upstash token",
      ...validate("concat-token.json", { SCHEMA_ENV_ALLOW: "UPSTASH_*" }),
      code: 2,
      message: [
        /^\[0\]\.nodes\.transform\.concat\[0\]\.columns\[0\]: UPSTASH_REDIS_REST_TOKEN holds a secret/m,
      ],
    },
    {
      name: "an AWS credential",
      ...validate("aws-secret.json", { SCHEMA_ENV_ALLOW: "*" }),
      code: 2,
      message: [/^\[0\]\.index: AWS_SECRET_ACCESS_KEY holds a secret/m],
    },
    {
      name: "a variable nobody allowed",
      ...validate("not-allowed.json", { HOME: "/root" }),
      code: 2,
      message: [
        /^\[0\]\.index: the schema may not read environment variable HOME: name it SLOTSYNC_SCHEMA_HOME, or add HOME to SCHEMA_ENV_ALLOW/m,
      ],
    },
    {
      name: "a secret-named variable even when listed",
      ...validate("allowed-but-secret.json", { SCHEMA_ENV_ALLOW: "ELASTICSEARCH_API_KEY" }),
      code: 2,
      message: [/^\[0\]\.index: ELASTICSEARCH_API_KEY holds a secret/m],
    },
    {
      name: "an allowed value that makes a bad index name is shown as its reference",
      ...validate("upper-index.json", { SLOTSYNC_SCHEMA_INDEX: `Idx-${SECRET.urlToken}` }),
      code: 2,
      message: [/^\[0\]\.index: index name "\$\{SLOTSYNC_SCHEMA_INDEX\}" must be lowercase/m],
    },
    {
      name: "an allowed variable that is not set",
      ...validate("unset.json"),
      code: 2,
      message: [/^\[0\]\.index: environment variable SLOTSYNC_SCHEMA_MISSING is not set; set it or write/m],
    },
  ];
  it.each(cases)("$name", check);
});

describe("schema files: bad text answered with the place and the fix", () => {
  const cases: Case[] = [
    {
      name: "a UTF-8 byte order mark is accepted",
      ...validate("bom.json"),
      code: 0,
      message: [/bom\.json: valid/],
      stream: "stdout",
    },
    {
      name: "a .env passed as the schema: line and column, none of its content",
      ...validate(".env.secret"),
      code: 2,
      message: [
        /^\.env\.secret is not valid JSON at line 1, column 1; check that the file is the schema\.json/m,
      ],
    },
    {
      name: "a syntax error after a secret-looking value",
      ...validate("broken.json"),
      code: 2,
      message: [/^broken\.json is not valid JSON at line 1, column \d+;/m],
    },
    {
      name: "a truncated file",
      ...validate("truncated.json"),
      code: 2,
      message: [
        /^truncated\.json is not valid JSON: it ends before the JSON is complete .*missing \] or \}$/m,
      ],
    },
    {
      name: "an empty file",
      ...validate("empty.json"),
      code: 2,
      message: [/^empty\.json is empty; a schema is a JSON array of index definitions$/m],
    },
    {
      name: "arrays nested 3,000 deep",
      ...validate("deep.json"),
      code: 2,
      message: [/^(\[0\]){200}: the schema nests deeper than 200 levels here/m],
    },
    {
      name: "nodes nested 1,500 deep",
      ...validate("deep-nodes.json"),
      code: 2,
      message: [/^\[0\]\.nodes(\.children\[0\])+.*: the schema nests deeper than 200 levels here/m],
    },
    {
      name: "a directory as the schema",
      ...validate("a-directory"),
      code: 2,
      message: [
        /a-directory is a directory — pass the schema\.json file inside it: --schema <dir>\/schema\.json/,
      ],
    },
    {
      name: "a schema file that does not exist",
      ...validate("missing.json"),
      code: 2,
      message: [/schema file missing\.json does not exist — pass --schema/],
    },
  ];
  it.each(cases)("$name", check);
});

describe("regex rules: only what RE2 runs in linear time", () => {
  const cases: Case[] = [
    {
      name: "a backreference",
      ...validate("backreference.json"),
      code: 2,
      message: [
        /^\[0\]\.slotsync\.rules\[0\]\.pattern: backreferences .* match the repeated text explicitly/m,
      ],
    },
    {
      name: "a lookahead",
      ...validate("lookahead.json"),
      code: 2,
      message: [/^\[0\]\.slotsync\.rules\[0\]\.pattern: lookaround .* write it back with \$1 in "replace"$/m],
    },
    {
      name: "a lookbehind",
      ...validate("lookbehind.json"),
      code: 2,
      message: [/^\[0\]\.slotsync\.rules\[0\]\.pattern: lookaround/m],
    },
    {
      name: "a pattern that does not parse",
      ...validate("bad-regex.json"),
      code: 2,
      message: [
        /^\[0\]\.slotsync\.rules\[0\]\.pattern: not a valid regular expression \(missing closing \)\); rules use RE2 syntax/m,
      ],
    },
  ];
  it.each(cases)("$name", check);
});

describe("schema URLs: same rules after a redirect, a size cap, a timeout, nothing secret in messages", () => {
  const url = (path: string) => `${base}${path}`;
  const cases = (): Case[] => [
    {
      name: "a redirect to plain http on another host",
      ...validate(url("/to-plain-http")),
      code: 2,
      message: [
        /redirects to http:\/\/example\.com\/schema\.json, which is refused: refusing to load the schema over plain http from example\.com — point SCHEMA_URL at an https:\/\/ address/,
      ],
    },
    {
      name: "a redirect to a file: URL",
      ...validate(url("/to-file")),
      code: 2,
      message: [
        /redirects to file:\/\/\/etc\/passwd, which is refused: refusing to load the schema from a file: URL/,
      ],
    },
    {
      name: "a redirect loop",
      ...validate(url("/loop")),
      code: 2,
      message: [/redirected more than 5 times — point SCHEMA_URL at the schema's final address/],
    },
    {
      name: "a body past the size cap",
      ...validate(url("/huge")),
      code: 2,
      message: [
        /the schema at http:\/\/127\.0\.0\.1:\d+\/huge is larger than 10485760 bytes — check that SCHEMA_URL names the schema\.json/,
      ],
    },
    {
      name: "a declared length past the size cap",
      ...validate(url("/huge-declared")),
      code: 2,
      message: [/is larger than 10485760 bytes/],
    },
    {
      name: "a body that never ends",
      ...validate(url("/never-ends"), { SCHEMA_TIMEOUT_SECONDS: "2" }),
      code: 1,
      message: [
        /fetching the schema from http:\/\/127\.0\.0\.1:\d+\/never-ends took longer than 2 s — check that the server answers/,
      ],
    },
    {
      name: "an HTTP error on a URL with a token: no query string in the message",
      ...validate(url(`/nope.json?token=${SECRET.urlToken}&X-Amz-Signature=${SECRET.schemaSignature}`)),
      code: 2,
      message: [
        /fetching the schema from http:\/\/127\.0\.0\.1:\d+\/nope\.json\?… returned HTTP 404 — check the URL \(SCHEMA_URL\)/,
      ],
    },
    {
      name: "credentials in the URL stay out of the message",
      ...validate(`http://user:${SECRET.pgPassword}@127.0.0.1:2/schema.json`),
      code: 1,
      message: [/cannot fetch the schema from http:\/\/127\.0\.0\.1:2\/schema\.json \(ECONNREFUSED\)/],
    },
    {
      name: "a redirect on loopback is followed, and a token in it never shown",
      ...validate(url("/to-loopback")),
      code: 0,
      message: [/^http:\/\/127\.0\.0\.1:\d+\/to-loopback: valid/m],
      stream: "stdout",
    },
  ];
  it("answers each one", async () => {
    for (const c of cases()) await check(c);
  });
});

describe("credential-carrying URLs: TLS except on this machine; one whole line per variable", () => {
  const plain = (env: Record<string, string>) => ({ ...validate("good.json", env) });
  const cases: Case[] = [
    {
      name: "Upstash over plain http",
      ...plain({ UPSTASH_REDIS_REST_URL: "http://redis.example.com" }),
      code: 2,
      message: [
        /^UPSTASH_REDIS_REST_URL uses plain http to redis\.example\.com, which would send UPSTASH_REDIS_REST_TOKEN in the clear; use https:\/\/ \(plain http is allowed only to localhost, 127\.0\.0\.1 and ::1\)$/m,
      ],
    },
    {
      name: "the alert webhook over plain http",
      ...plain({ ALERT_WEBHOOK_URL: `http://hooks.example.com/services/${SECRET.urlToken}` }),
      code: 2,
      message: [
        /^ALERT_WEBHOOK_URL uses plain http to hooks\.example\.com, which would send the alert webhook's URL/m,
      ],
    },
    {
      name: "Elasticsearch with a password in the URL over plain http",
      ...plain({ ELASTICSEARCH_URL: `http://elastic:${SECRET.pgPassword}@es.example.com:9200` }),
      code: 2,
      message: [
        /^ELASTICSEARCH_URL uses plain http to es\.example\.com:9200, which would send the user and password in the clear/m,
      ],
    },
    {
      name: "Elasticsearch with an API key over plain http",
      ...plain({ ELASTICSEARCH_URL: "http://es.example.com:9200" }),
      code: 2,
      message: [
        /^ELASTICSEARCH_URL uses plain http to es\.example\.com:9200, which would send the API key in the clear/m,
      ],
    },
    {
      name: "the webhook sink over plain http",
      ...plain({ SINK: "webhook", WEBHOOK_URL: "http://receiver.example.com/in" }),
      code: 2,
      message: [
        /^WEBHOOK_URL uses plain http to receiver\.example\.com, which would send the documents in the clear/m,
      ],
    },
    {
      name: "several problems, each on its own line, none cut at '; '",
      ...plain({
        UPSTASH_REDIS_REST_URL: "http://redis.example.com",
        ELASTICSEARCH_URL: `not a url ${SECRET.pgPassword}`,
      }),
      code: 2,
      message: [
        /^ELASTICSEARCH_URL is not a URL; write it as https:\/\/host:port$/m,
        /^UPSTASH_REDIS_REST_URL uses plain http to redis\.example\.com, .* in the clear; use https:\/\/ \(plain http is allowed only to localhost, 127\.0\.0\.1 and ::1\)$/m,
      ],
    },
    {
      name: "loopback over plain http is fine",
      ...plain({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1", ALERT_WEBHOOK_URL: "http://localhost:2/x" }),
      code: 0,
      message: [/good\.json: valid/],
    },
  ];
  it.each(cases)("$name", check);
});

describe("the .env file, an unreachable database, the wrong server behind a URL", () => {
  const cases = (): Case[] => [
    {
      name: "a .env quote that swallows later lines",
      args: ["validate", "--offline", "--schema", "good.json", "--env-file", "env-swallows"],
      code: 2,
      message: [
        /^slotsync: env-swallows line 2: the value of UPSTASH_REDIS_REST_TOKEN opens a " quote that closes only on line 4, so the variables on lines 3-4 would become part of it \(close the quote on line 2\)$/m,
      ],
    },
    {
      name: "a .env quote never closed",
      args: ["validate", "--offline", "--schema", "good.json", "--env-file", "env-unclosed"],
      code: 2,
      message: [
        /^slotsync: env-unclosed line 2: the value of WEBHOOK_SECRET opens a ' quote that is never closed \(close the quote on line 2\)$/m,
      ],
    },
    {
      name: "a .env value that really spans lines is fine",
      args: ["validate", "--offline", "--schema", "good.json", "--env-file", "env-multiline"],
      code: 0,
      message: [/good\.json: valid/],
    },
    {
      name: "status with PostgreSQL unreachable says so, not that PG_URL is missing",
      args: ["status", "--schema", "good.json"],
      env: { PG_URL: DEAD_PG },
      code: 1,
      message: [
        /^slot\s+unknown \(PostgreSQL could not be read: see the error below\)$/m,
        /^error\s+PostgreSQL: 127\.0\.0\.1:1\/shop: cannot connect to PostgreSQL: connection refused — check the host and port in PG_URL/m,
      ],
    },
    {
      name: "an Upstash URL pointing at another server",
      args: ["status", "--schema", "good.json"],
      env: {
        PG_URL: DEAD_PG,
        SLOTSYNC_SLOT: "shop_slot",
        UPSTASH_REDIS_REST_URL: `${base}/not-upstash`,
      },
      code: 1,
      message: [
        /^error\s+Upstash: UPSTASH_REDIS_REST_URL: 127\.0\.0\.1:\d+ did not answer like the Upstash REST API \(\w+\) — set UPSTASH_REDIS_REST_URL to the database's REST URL from the Upstash console/m,
      ],
    },
  ];
  it("answers each one", async () => {
    for (const c of cases()) await check(c);
  });
});

describe("the consumer Lambda: a schema that reaches for a secret", () => {
  it("refuses at cold start, naming the JSON path and the fix, with no secret in the error or the logs", async () => {
    const services = getServices();
    const saved = { ...process.env };
    const logged: string[] = [];
    const capture = (chunk: unknown) => {
      logged.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, "write").mockImplementation(capture),
      vi.spyOn(process.stderr, "write").mockImplementation(capture),
      ...(["log", "info", "warn", "error", "debug"] as const).map((m) =>
        vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
          logged.push(args.map(String).join(" "));
        }),
      ),
    ];
    Object.assign(process.env, {
      ...SECRET_ENV,
      PG_URL: services.postgres.url,
      SCHEMA: join(dir, "index-pg-url.json"),
      SCHEMA_ENV_ALLOW: "PG_URL",
      ELASTICSEARCH_URL: services.elasticsearch.url,
      ELASTICSEARCH_API_KEY: "",
      SQS_QUEUE_URL: `${services.elasticmq.endpoint}/000000000000/security-bad-input`,
      SQS_DLQ_URL: `${services.elasticmq.endpoint}/000000000000/security-bad-input-dlq`,
      SQS_ENDPOINT: services.elasticmq.endpoint,
      AWS_REGION: services.elasticmq.region,
      UPSTASH_REDIS_REST_URL: services.upstash.url,
      UPSTASH_REDIS_REST_TOKEN: services.upstash.token,
    });
    let error: Error | undefined;
    try {
      vi.resetModules();
      const { handler } = (await import("../../lambdas/consumer")) as typeof import("../../lambdas/consumer");
      error = await handler(
        { Records: [] },
        { awsRequestId: "req-1", getRemainingTimeInMillis: () => 30_000 },
      ).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
      process.env = saved;
    }
    expect(error?.message).toMatch(
      /\[0\]\.index: PG_URL holds a secret or a credential.*SLOTSYNC_SCHEMA_<NAME> instead/,
    );
    const everything = `${error?.message}\n${error?.stack}\n${logged.join("\n")}`;
    for (const value of [...Object.values(SECRET), services.postgres.password, services.upstash.token]) {
      expect(everything).not.toContain(value);
    }
  });
});
