/**
 * The live demo, `npm run demo`: starts the real local services, creates a bookstore database of
 * realistic size, bootstraps it into Elasticsearch with `slotsync bootstrap`, starts `slotsync run`,
 * makes three changes and measures how long each takes from COMMIT to searchable.
 *
 *   npx tsx scripts/demo.ts [--books N] [--exit] [--name NAME]
 *
 * --books N    books to generate (default 100,000; authors, publishers and reviews scale with it)
 * --exit       stop the sync and exit after the changes (scripted use); default: keep it running
 *              until Ctrl-C
 * --name NAME  database, slot and index prefix (default slotsync_demo); re-running a name starts over
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { ensureServices } from "../tools/services";
import type { ServiceEndpoints } from "../tools/services/types";

const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "bin", "slotsync.js");

interface Options {
  books: number;
  exit: boolean;
  name: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { books: 100_000, exit: false, name: "slotsync_demo" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--exit") options.exit = true;
    else if (arg === "--books" && /^\d+$/.test(argv[i + 1] ?? "") && Number(argv[i + 1]) >= 10) {
      options.books = Number(argv[++i]);
    } else if (arg === "--name" && /^[a-z][a-z0-9_]{0,40}$/.test(argv[i + 1] ?? ""))
      options.name = argv[++i] as string;
    else {
      console.error(
        `demo: unexpected argument ${arg} (usage: npm run demo -- [--books N>=10] [--exit] [--name a_z0_9])`,
      );
      process.exit(2);
    }
  }
  return options;
}

const say = (line = "") => process.stdout.write(`${line}\n`);
const count = (n: number) => n.toLocaleString("en-US");

/** The sample data: plausible names and titles from small word lists, sized by `books`. */
function sampleSql(books: number): string {
  const authors = Math.max(10, Math.round(books / 5));
  const publishers = Math.max(3, Math.min(500, Math.round(books / 500)));
  const words = (list: string[]) => `ARRAY[${list.map((w) => `'${w}'`).join(",")}]`;
  const first = words([
    "Ada",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kavya",
    "Liam",
    "Mara",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tess",
    "Umar",
    "Vera",
    "Wen",
    "Yusuf",
    "Zoe",
  ]);
  const last = words([
    "Adler",
    "Brooks",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Laurent",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quintero",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Young",
  ]);
  const adjective = words([
    "Silent",
    "Hidden",
    "Last",
    "Burning",
    "Quiet",
    "Lost",
    "Golden",
    "Broken",
    "Distant",
    "Secret",
    "Winter",
    "Midnight",
    "Scarlet",
    "Forgotten",
    "Electric",
    "Paper",
    "Glass",
    "Wild",
    "Northern",
    "Endless",
  ]);
  const noun = words([
    "River",
    "Garden",
    "Kingdom",
    "Orchard",
    "Lighthouse",
    "Harbor",
    "Library",
    "Mountain",
    "Engine",
    "Letters",
    "Forest",
    "City",
    "Island",
    "Machine",
    "Daughter",
    "Voyage",
    "Archive",
    "Empire",
    "Compass",
    "Tide",
  ]);
  const publisherWord = words([
    "Harbor",
    "Meridian",
    "Lantern",
    "Oak",
    "Northwind",
    "Granite",
    "Willow",
    "Beacon",
    "Atlas",
    "Juniper",
  ]);
  return `
    CREATE TABLE publisher (id serial PRIMARY KEY, name text NOT NULL, country text NOT NULL);
    CREATE TABLE author (id serial PRIMARY KEY, name text NOT NULL, born date);
    CREATE TABLE book (
      id serial PRIMARY KEY,
      isbn text NOT NULL UNIQUE,
      title text NOT NULL,
      publisher_id integer REFERENCES publisher (id),
      published_on date,
      pages integer,
      price numeric(8, 2)
    );
    CREATE TABLE book_author (
      book_id integer REFERENCES book (id) ON DELETE CASCADE,
      author_id integer REFERENCES author (id) ON DELETE CASCADE,
      PRIMARY KEY (book_id, author_id)
    );
    CREATE INDEX ON book_author (author_id);
    CREATE TABLE review (
      id serial PRIMARY KEY,
      book_id integer NOT NULL REFERENCES book (id) ON DELETE CASCADE,
      reviewer text NOT NULL,
      stars smallint NOT NULL,
      body text,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX ON review (book_id);
    INSERT INTO publisher (name, country)
      SELECT (${publisherWord})[1 + g % 10] || ' ' || (ARRAY['Press','Books','House','Publishing'])[1 + (g / 10) % 4] || CASE WHEN g > 40 THEN ' ' || g ELSE '' END,
             (ARRAY['UK','US','Canada','Ireland','Australia','India','Japan','Germany'])[1 + g % 8]
        FROM generate_series(1, ${publishers}) g;
    INSERT INTO author (name, born)
      SELECT (${first})[1 + g % 25] || ' ' || (${last})[1 + (g / 25) % 25] || CASE WHEN g > 625 THEN ' ' || (g / 625)::text ELSE '' END,
             date '1930-01-01' + (g * 37) % 25000
        FROM generate_series(1, ${authors}) g;
    INSERT INTO book (isbn, title, publisher_id, published_on, pages, price)
      SELECT '978' || lpad(g::text, 10, '0'),
             'The ' || (${adjective})[1 + g % 20] || ' ' || (${noun})[1 + (g / 20) % 20] ||
               CASE WHEN g % 3 = 0 THEN ' of ' || (${noun})[1 + (g / 400) % 20] ELSE '' END,
             1 + g % ${publishers}, date '1950-01-01' + (g * 13) % 27000, 80 + g % 900, 4.99 + (g % 50)
        FROM generate_series(1, ${books}) g;
    INSERT INTO book_author (book_id, author_id)
      SELECT g, 1 + (g * 7) % ${authors} FROM generate_series(1, ${books}) g
      UNION SELECT g, 1 + (g * 13 + 5) % ${authors} FROM generate_series(1, ${books}) g WHERE g % 4 = 0;
    INSERT INTO review (book_id, reviewer, stars, body, created_at)
      SELECT 1 + (g * 31) % ${books}, (${first})[1 + (g / 7) % 25] || ' ' || left((${last})[1 + g % 25], 1) || '.',
             1 + g % 5, (ARRAY['Could not put it down.','A slow start, then wonderful.','Not for me.','Beautifully written.','The ending surprised me.'])[1 + g % 5],
             timestamptz '2020-01-01' + g * interval '7 minutes'
        FROM generate_series(1, ${books * 3}) g;
    ANALYZE;`;
}

function schemaJson(database: string, index: string): unknown[] {
  return [
    {
      database,
      index,
      mapping: { title: { type: "text" }, authors: { properties: { name: { type: "text" } } } },
      nodes: {
        table: "book",
        columns: ["id", "isbn", "title", "published_on", "pages", "price"],
        children: [
          {
            table: "publisher",
            label: "publisher",
            columns: ["id", "name", "country"],
            relationship: { variant: "object", type: "one_to_one" },
          },
          {
            table: "author",
            label: "authors",
            columns: ["id", "name", "born"],
            relationship: { variant: "object", type: "one_to_many", through_tables: ["book_author"] },
          },
          {
            table: "review",
            label: "reviews",
            columns: ["reviewer", "stars", "body", "created_at"],
            relationship: { variant: "object", type: "one_to_many" },
          },
        ],
      },
    },
  ];
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Elasticsearch over HTTP with the local user: the demo checks what a search client would see. */
function elastic(es: ServiceEndpoints["elasticsearch"]) {
  const auth = `Basic ${Buffer.from(`${es.username}:${es.password}`).toString("base64")}`;
  return async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> | null }> => {
    const res = await fetch(`${es.url}${path}`, {
      method,
      headers: { authorization: auth, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      json: (await res.json().catch(() => null)) as Record<string, unknown> | null,
    };
  };
}

/** Runs `slotsync <args>` as a user would: `node bin/slotsync.js`, in the demo directory. */
function slotsync(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  stdio: ["ignore", "inherit" | "pipe" | "ignore", "inherit" | "pipe"],
): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env, cwd, stdio });
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** Polls until `ok()` holds (every 10 ms, at most 60 s) and returns the milliseconds since `since`. */
async function until(ok: () => Promise<boolean>, since: number): Promise<number> {
  const deadline = since + 60_000;
  for (;;) {
    if (await ok()) return Date.now() - since;
    if (Date.now() > deadline)
      throw new Error("the change did not become searchable within 60 s; see the run log");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const index = options.name.replace(/_/g, "-");
  const dir = join(ROOT, ".slotsync", "demo", options.name);

  say("slotsync demo: PostgreSQL → Elasticsearch, live");
  say("1. starting PostgreSQL and Elasticsearch (first time: downloads and installs them) …");
  const { endpoints } = await ensureServices(["postgres", "elasticsearch"], (line) => say(`   ${line}`));
  const es = elastic(endpoints.elasticsearch);

  say(
    `2. creating database "${options.name}" with ${count(options.books)} books, authors, publishers and reviews …`,
  );
  const admin = new pg.Client({ connectionString: endpoints.postgres.url });
  await admin.connect();
  try {
    // Start over: the previous run's slot (it pins the database), database, indices and state.
    await admin.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
      [options.name],
    );
    await admin.query(`DROP DATABASE IF EXISTS "${options.name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${options.name}"`);
  } finally {
    await admin.end();
  }
  const aliases = await es("GET", `/_alias/${index}`);
  for (const concrete of aliases.status === 200 ? Object.keys(aliases.json ?? {}) : []) {
    await es("DELETE", `/${concrete}`);
  }
  await es("DELETE", `/${index}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const pgUrl = withDatabase(endpoints.postgres.url, options.name);
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  const loadStarted = Date.now();
  await db.query(sampleSql(options.books));
  const sizes = await db.query<{ t: string; n: string }>(
    "SELECT 'authors' t, count(*)::text n FROM author UNION ALL SELECT 'reviews', count(*)::text FROM review UNION ALL SELECT 'publishers', count(*)::text FROM publisher",
  );
  const size = Object.fromEntries(sizes.rows.map((r) => [r.t, Number(r.n)]));
  say(
    `   ${count(options.books)} books, ${count(size.authors ?? 0)} authors, ${count(size.publishers ?? 0)} publishers, ` +
      `${count(size.reviews ?? 0)} reviews in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s`,
  );

  const schemaPath = join(dir, "schema.json");
  writeFileSync(schemaPath, `${JSON.stringify(schemaJson(options.name, index), null, 2)}\n`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    ...(process.env.TERM ? { TERM: process.env.TERM } : {}),
    PG_URL: pgUrl,
    SCHEMA: schemaPath,
    SLOTSYNC_SLOT: options.name,
    SLOTSYNC_STATE_DIR: join(dir, "state"),
    ELASTICSEARCH_URL: endpoints.elasticsearch.url,
    ELASTICSEARCH_USER: endpoints.elasticsearch.username,
    ELASTICSEARCH_PASSWORD: endpoints.elasticsearch.password,
  };
  say(`   schema: ${schemaPath}`);

  say("3. slotsync bootstrap: slot, index behind an alias, copy …");
  const tty = process.stderr.isTTY === true;
  const bootStarted = Date.now();
  // Nothing else consumes yet: no write-target cache to wait out before the copy starts.
  const boot = slotsync(
    ["bootstrap", "--fix-replica-identity", ...(tty ? [] : ["--quiet"])],
    { ...env, WRITE_TARGETS_CACHE_SECONDS: "0" },
    dir,
    ["ignore", "pipe", "inherit"],
  );
  let bootOut = "";
  boot.stdout?.on("data", (d: Buffer) => {
    bootOut += d.toString("utf8");
    process.stdout.write(d.toString("utf8").replace(/^(?=.)/gm, "   "));
  });
  const bootCode = await exited(boot);
  if (bootCode !== 0) throw new Error(`slotsync bootstrap failed (exit ${bootCode})`);
  const bootSeconds = (Date.now() - bootStarted) / 1000;
  await es("POST", `/${index}/_refresh`);
  const indexed = Number((await es("GET", `/${index}/_count`)).json?.count ?? 0);
  const copyRate = /\(([\d,]+) documents\/s\)/.exec(bootOut)?.[1];
  say(
    `   ${count(indexed)} documents searchable; copy rate ${copyRate ?? "?"} documents/s; ` +
      `the whole command (start-up, checks, slot, copy, switch) took ${bootSeconds.toFixed(1)} s`,
  );

  say("4. slotsync run: live sync (poller + consumers in one process) …");
  const logPath = join(dir, "run.log");
  const run = slotsync(["run", "--poll-interval", "0.2"], env, dir, ["ignore", "ignore", "pipe"]);
  const runExit = exited(run);
  let log = "";
  const started = new Promise<void>((resolve, reject) => {
    run.stderr?.on("data", (d: Buffer) => {
      log += d.toString("utf8");
      writeFileSync(logPath, log);
      if (/"event":"start"/.test(log)) resolve();
    });
    void runExit.then((code) => reject(new Error(`slotsync run exited (${code}): ${log.slice(-500)}`)));
  });
  await started;
  say(`   running; its log: ${logPath}`);

  say("5. changes, each timed from COMMIT until a search finds it:");
  const searchCount = async (query: unknown) =>
    Number((await es("POST", `/${index}/_count`, { query })).json?.count ?? -1);

  const title = "The Patient Cartographer";
  const inserted = await db.query<{ id: number }>(
    `WITH b AS (INSERT INTO book (isbn, title, publisher_id, published_on, pages, price)
                VALUES ('9799999999999', $1, 1, current_date, 312, 18.50) RETURNING id),
          a AS (INSERT INTO book_author (book_id, author_id) SELECT id, 1 FROM b)
     INSERT INTO review (book_id, reviewer, stars, body, created_at) SELECT id, 'Ada L.', 5, 'A new favourite.', now() FROM b
     RETURNING book_id AS id`,
    [title],
  );
  let t0 = Date.now();
  let ms = await until(async () => (await searchCount({ match_phrase: { title } })) === 1, t0);
  say(`   insert a book ("${title}", id ${inserted.rows[0]?.id}): searchable after ${ms} ms`);

  const author = await db.query<{ id: number; name: string; books: string }>(
    "SELECT a.id, a.name, count(*)::text AS books FROM author a JOIN book_author ba ON ba.author_id = a.id GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1",
  );
  const {
    id: authorId,
    name: oldName,
    books,
  } = author.rows[0] as { id: number; name: string; books: string };
  const newName = "Octavia Marchetti";
  await db.query("UPDATE author SET name = $2 WHERE id = $1", [authorId, newName]);
  t0 = Date.now();
  ms = await until(
    async () => (await searchCount({ match_phrase: { "authors.name": newName } })) === Number(books),
    t0,
  );
  say(`   rename an author ("${oldName}" → "${newName}", ${books} books): searchable after ${ms} ms`);

  const doomed = await db.query<{ id: number; title: string }>(
    "SELECT id, title FROM book WHERE id = (SELECT min(id) FROM book)",
  );
  const { id: bookId, title: doomedTitle } = doomed.rows[0] as { id: number; title: string };
  await db.query("DELETE FROM book WHERE id = $1", [bookId]);
  t0 = Date.now();
  ms = await until(async () => (await searchCount({ ids: { values: [String(bookId)] } })) === 0, t0);
  say(`   delete a book ("${doomedTitle}", id ${bookId}): searchable after ${ms} ms (gone from search)`);
  await db.end();

  say();
  say(
    `Search it: curl -u ${endpoints.elasticsearch.username}:*** '${endpoints.elasticsearch.url}/${index}/_search?q=title:lighthouse'`,
  );
  say(`Change it: psql '${pgUrl.replace(/:[^:@/]*@/, ":***@")}'  (the sync picks up every commit)`);

  if (options.exit) {
    run.kill("SIGINT");
    const code = await runExit;
    say(`Stopped the sync (exit ${code}).`);
    process.exitCode = code;
    return;
  }
  say("The sync keeps running; press Ctrl-C to stop it.");
  const forward = (signal: NodeJS.Signals) => {
    say(`\nstopping the sync (${signal}) …`);
    run.kill(signal);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  run.stderr?.removeAllListeners("data");
  run.stderr?.on("data", (d: Buffer) => {
    log += d.toString("utf8");
    writeFileSync(logPath, log);
  });
  const code = await runExit;
  say(`Stopped (exit ${code}).`);
  process.exitCode = code;
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
