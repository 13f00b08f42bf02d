import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DocumentPlugin, isDropped, loadPlugins, PluginError } from "../../../lib/document";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "slotsync-plugins-"));
  await writeFile(
    join(dir, "heroes.mjs"),
    `export const groot = { name: "Groot", transform: (doc) => ({ ...doc, groot: "I am Groot" }) };
     export class Hero { name = "Hero"; transform(doc, ctx) { return { ...doc, hero: ctx._id }; } }`,
  );
  await mkdir(join(dir, "nested"));
  await writeFile(
    join(dir, "nested", "villain.mjs"),
    `export default class Villain { static name = "Villain"; transform(doc) { return doc.drop ? null : doc; } }`,
  );
  await writeFile(join(dir, "readme.txt"), "not a module");
  await writeFile(join(dir, "skip.test.mjs"), "throw new Error('test files are not plugins')");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadPlugins", () => {
  it("finds plugin objects and classes, recursively, in the order the schema names them", async () => {
    const plugins = await loadPlugins(["Villain", "Groot", "Hero"], { directory: dir });
    expect(plugins.map((p) => p.name)).toEqual(["Villain", "Groot", "Hero"]);
    const context = { _id: "7", _index: "books" };
    expect(await plugins[1]?.transform({ a: 1 }, context)).toEqual({ a: 1, groot: "I am Groot" });
    expect(await plugins[2]?.transform({ a: 1 }, context)).toEqual({ a: 1, hero: "7" });
    expect(await plugins[0]?.transform({ drop: true }, context)).toBeNull();
  });

  it("prefers registry plugins and needs no directory for them", async () => {
    const own: DocumentPlugin = { name: "Groot", transform: () => ({ own: true }) };
    const [plugin] = await loadPlugins(["Groot"], { directory: dir, registry: [own] });
    expect(plugin).toBe(own);
    expect(await loadPlugins([], {})).toEqual([]);
  });

  it("names the missing plugin and suggests a close one", async () => {
    const error = await loadPlugins(["Grot"], { directory: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).message).toBe('plugin "Grot" not found; did you mean "Groot"?');
    expect((error as PluginError).fix).toBe("available plugins: Groot, Hero, Villain");
  });

  it("reports a plugins directory that does not exist", async () => {
    await expect(loadPlugins(["X"], { directory: join(dir, "missing") })).rejects.toThrow(
      "cannot read the plugins directory",
    );
  });

  it("treats what Python would call false as a drop", () => {
    expect([null, undefined, false, {}].map((r) => isDropped(r as never))).toEqual([true, true, true, true]);
    expect(isDropped({ a: 1 })).toBe(false);
  });
});
