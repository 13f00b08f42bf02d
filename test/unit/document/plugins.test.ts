import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DocumentPlugin,
  isDropped,
  loadPlugins,
  PluginError,
  pluginModuleNames,
} from "../../../lib/document";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "slotsync-plugins-"));
  await writeFile(
    join(dir, "groot.mjs"),
    `export const groot = { name: "Groot", transform: (doc) => ({ ...doc, groot: "I am Groot" }) };`,
  );
  await writeFile(
    join(dir, "super_hero.mjs"),
    `export class SuperHero { name = "SuperHero"; transform(doc, ctx) { return { ...doc, hero: ctx._id }; } }`,
  );
  await writeFile(
    join(dir, "villain.mjs"),
    `export default class Villain { static name = "Villain"; transform(doc) { return doc.drop ? null : doc; } }`,
  );
  // Modules no schema names: importing them would run their code.
  await writeFile(join(dir, "unnamed.mjs"), "globalThis.unnamedPluginLoaded = true;");
  await mkdir(join(dir, "nested"));
  await writeFile(
    join(dir, "nested", "deep.mjs"),
    "globalThis.nestedPluginLoaded = true; export const deep = { name: 'Deep', transform: (d) => d };",
  );
  await writeFile(join(dir, "readme.txt"), "not a module");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadPlugins", () => {
  it("imports only the modules named after the schema's plugins, in the order named", async () => {
    const plugins = await loadPlugins(["Villain", "Groot", "SuperHero"], { directory: dir });
    expect(plugins.map((p) => p.name)).toEqual(["Villain", "Groot", "SuperHero"]);
    const context = { _id: "7", _index: "books" };
    expect(await plugins[1]?.transform({ a: 1 }, context)).toEqual({ a: 1, groot: "I am Groot" });
    expect(await plugins[2]?.transform({ a: 1 }, context)).toEqual({ a: 1, hero: "7" });
    expect(await plugins[0]?.transform({ drop: true }, context)).toBeNull();
    const loaded = globalThis as { unnamedPluginLoaded?: boolean; nestedPluginLoaded?: boolean };
    expect(loaded.unnamedPluginLoaded).toBeUndefined();
    expect(loaded.nestedPluginLoaded).toBeUndefined();
  });

  it("maps a name to its module names: as written, lower, kebab and snake case", () => {
    expect(pluginModuleNames("PriceInCents")).toEqual([
      "PriceInCents",
      "priceincents",
      "price-in-cents",
      "price_in_cents",
    ]);
    expect(pluginModuleNames("Shout")).toEqual(["Shout", "shout"]);
  });

  it("does not search subfolders, and refuses names that could name a path", async () => {
    const nested = (await loadPlugins(["Deep"], { directory: dir }).catch((e: unknown) => e)) as PluginError;
    expect(nested.message).toBe('plugin "Deep" not found');
    expect(nested.fix).toMatch(
      /^put it in .* as deep\.ts \(or \.js, \.mjs\), exporting an object or class with name "Deep" and transform; subfolders are not searched$/,
    );
    const climbing = (await loadPlugins(["../x"], { directory: dir }).catch(
      (e: unknown) => e,
    )) as PluginError;
    expect(climbing.message).toBe('plugin name "../x" cannot name a module');
  });

  it("prefers registry plugins and needs no directory for them", async () => {
    const own: DocumentPlugin = { name: "Groot", transform: () => ({ own: true }) };
    const [plugin] = await loadPlugins(["Groot"], { directory: dir, registry: [own] });
    expect(plugin).toBe(own);
    expect(await loadPlugins([], {})).toEqual([]);
  });

  it("names the missing plugin and suggests a close module", async () => {
    const error = await loadPlugins(["Grot"], { directory: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).message).toBe('plugin "Grot" not found; did you mean "groot"?');
  });

  it("says when the module exports no plugin of that name", async () => {
    const error = (await loadPlugins(["Unnamed"], { directory: dir }).catch(
      (e: unknown) => e,
    )) as PluginError;
    expect(error.message).toMatch(/^module .*unnamed\.mjs exports no plugin named "Unnamed"$/);
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
