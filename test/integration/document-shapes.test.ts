import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIndexBody, DocumentBuilder } from "../../lib/document";
import { parseSchema, type ResolvedSchema, resolveSchema } from "../../lib/schema";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";

let db: TestDatabase;
let resolved: ResolvedSchema;

beforeAll(async () => {
  db = await createFixtureDatabase("matches");
  resolved = await resolveSchema(
    parseSchema(await readSchemaFixture("matches"), { env: { DATABASE: db.name } }),
    db.client,
  );
});
afterAll(async () => {
  await db?.drop();
});

function builder(name: string): DocumentBuilder {
  const index = resolved.indices.find((i) => i.spec.index === name);
  if (!index) throw new Error(`no index ${name}`);
  return new DocumentBuilder(index);
}

describe("relationship shapes (one schema, two indices)", () => {
  it("resolves both indices of the schema, one table used under several labels", () => {
    expect(resolved.indices.map((i) => i.spec.index)).toEqual(["matches", "teams"]);
    const matches = resolved.indices[0];
    expect(
      matches?.nodes.map(
        (n) => `${n.field}:${n.table.name}:${n.join?.kind === "direct" ? n.join.direction : "root"}`,
      ),
    ).toEqual([
      "match:match:root",
      "home:team:parent_holds_key",
      "away:team:parent_holds_key",
      "home_city:team:parent_holds_key",
      "goals:goal:child_holds_key",
      "scorer:player:parent_holds_key",
      "minutes:goal:child_holds_key",
    ]);
  });

  it("renders one_to_one and one_to_many, object and scalar, in both key directions", async () => {
    expect(await builder("matches").build(db.client, [100, 101])).toEqual([
      {
        action: "index",
        _index: "matches",
        _id: "100",
        key: ["100"],
        _source: {
          id: 100,
          played_on: "2024-08-10",
          home_score: 2,
          away_score: 1,
          home: { id: 1, name: "Rovers" },
          away: { id: 2, name: "United" },
          home_city: "Bristol",
          goals: [
            { minute: 12, scorer: { name: "Ann", number: 9 } },
            { minute: 55, scorer: { name: "Cal", number: 7 } },
            // An own goal: the parent-holds-key child with a NULL key is null.
            { minute: 90, scorer: null },
          ],
          minutes: [12, 55, 90],
        },
      },
      {
        action: "index",
        _index: "matches",
        _id: "101",
        key: ["101"],
        _source: {
          id: 101,
          played_on: "2024-08-17",
          home_score: null,
          away_score: null,
          home: { id: 2, name: "United" },
          away: { id: 3, name: "Athletic" },
          home_city: "Leeds",
          // No goals: PGSync gives null, not an empty array, for both variants.
          goals: null,
          minutes: null,
        },
      },
    ]);
  });

  it("renders the second index with routing, pipeline and a child-holds-key one_to_one", async () => {
    expect(await builder("teams").build(db.client, [1, 3])).toEqual([
      {
        action: "index",
        _index: "teams",
        _id: "1",
        key: ["1"],
        routing: "Bristol",
        pipeline: "teams-pipeline",
        _source: {
          id: 1,
          name: "Rovers",
          city: "Bristol",
          players: [
            { id: 10, name: "Ann", number: 9 },
            { id: 11, name: "Bea", number: null },
          ],
          player_names: ["Ann", "Bea"],
          stadium: { name: "Memorial Stadium" },
          stadium_name: "Memorial Stadium",
          home_matches: [{ id: 100, played_on: "2024-08-10" }],
        },
      },
      {
        action: "index",
        _index: "teams",
        _id: "3",
        key: ["3"],
        routing: "Bristol",
        pipeline: "teams-pipeline",
        _source: {
          id: 3,
          name: "Athletic",
          city: "Bristol",
          players: null,
          player_names: null,
          stadium: null,
          stadium_name: null,
          home_matches: null,
        },
      },
    ]);
    const teams = resolved.indices[1];
    if (!teams) throw new Error("no teams index");
    expect(buildIndexBody(teams.spec)).toEqual({
      mappings: { _routing: { required: true } },
    });
  });
});
