import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { didYouMean } from "../errors";
import { PluginError } from "./errors";
import type { JsonObject } from "./json";

/** What a plugin learns about the document besides its body (PGSync passes `_id` and `_index`). */
export interface PluginContext {
  readonly _id: string;
  readonly _index: string;
}

/** What a plugin may return: the document to index, or a value that drops it. */
export type PluginResult = JsonObject | null | undefined | false;

/**
 * A document plugin, the TypeScript form of PGSync's `Plugin` class.
 *
 * The schema's `plugins` list names plugins by their `name`; they run in that order on every
 * document after the schema's transforms. `transform` gets the document body (`_source`) and may
 * change it in place, return a new object, or return null/undefined/false — or an empty object,
 * which Python treats as false too — to drop the document. A dropped document is deleted from the
 * index, so a document that stops passing a plugin's filter disappears instead of going stale.
 * Plugins may be async. A thrown error stops the batch (the message is a poison, not retried).
 *
 * A plugin module exports plugin objects (`export const groot = { name: "Groot", transform }`) or
 * classes with a `transform` method and a `name` (instance property or `static name = "Groot"`),
 * as named exports or the default export.
 */
export interface DocumentPlugin {
  readonly name: string;
  transform(doc: JsonObject, context: PluginContext): PluginResult | Promise<PluginResult>;
}

export interface LoadPluginsOptions {
  /**
   * The plugins directory. Only the modules named after the schema's plugins are imported from it
   * (see {@link pluginModuleNames}), never anything else in it, and nothing in its subfolders.
   */
  directory?: string;
  /** Plugins supplied directly; they take precedence over modules of the same name. */
  registry?: readonly DocumentPlugin[];
}

const EXTENSIONS = [".js", ".mjs", ".cjs", ".ts", ".mts"];
/** A plugin name that can name a file: no path separators, no dots, nothing to climb out with. */
const PLUGIN_NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * The file names (without extension) a plugin's module may have, in the order tried: the name
 * as written, lower-case, kebab-case and snake_case (`PriceInCents`: `PriceInCents`,
 * `priceincents`, `price-in-cents`, `price_in_cents`).
 */
export function pluginModuleNames(name: string): string[] {
  const words = nameWords(name);
  return [...new Set([name, name.toLowerCase(), words.join("-"), words.join("_")])];
}

/** `PriceInCents` -> `price`, `in`, `cents`. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/**
 * Finds the plugins named by a schema, in the order named. For each name not in the registry,
 * the module named after it (see {@link pluginModuleNames}) is imported from the directory: a
 * schema's author can run only code the operator put there under that name.
 * @throws PluginError when a name matches no plugin, or a module cannot be imported.
 */
export async function loadPlugins(
  names: readonly string[],
  options: LoadPluginsOptions = {},
): Promise<DocumentPlugin[]> {
  if (names.length === 0) return [];
  const registry = new Map((options.registry ?? []).map((p) => [p.name, p]));
  const files = options.directory ? await moduleFiles(options.directory) : new Map<string, string>();
  const result: DocumentPlugin[] = [];
  for (const name of names) {
    const registered = registry.get(name);
    if (registered) {
      result.push(registered);
      continue;
    }
    if (!PLUGIN_NAME.test(name)) {
      throw new PluginError(`plugin name "${name}" cannot name a module`, {
        where: options.directory,
        fix: "name plugins with letters, digits, _ and - only",
      });
    }
    const candidates = pluginModuleNames(name).flatMap((base) => EXTENSIONS.map((ext) => `${base}${ext}`));
    const file = candidates.map((c) => files.get(c)).find((f) => f !== undefined);
    if (!file) {
      const modules = [...files.keys()].map((f) => f.replace(/\.[^.]+$/, ""));
      const known = [...registry.keys(), ...modules];
      throw new PluginError(`plugin "${name}" not found${didYouMean(name, known)}`, {
        where: options.directory,
        fix: options.directory
          ? `put it in ${options.directory} as ${nameWords(name).join("-")}.ts (or .js, .mjs), exporting an object or class with name "${name}" and transform; subfolders are not searched`
          : "set PLUGINS_DIR to the directory of the plugin modules",
      });
    }
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      throw new PluginError(`cannot load plugin module ${file}: ${(err as Error).message}`, {
        cause: err,
        where: file,
      });
    }
    const exported = pluginsOf(module);
    const plugin = exported.find((p) => p.name === name);
    if (!plugin) {
      throw new PluginError(`module ${file} exports no plugin named "${name}"`, {
        where: file,
        fix: exported.length
          ? `it exports ${exported.map((p) => `"${p.name}"`).join(", ")}; give each plugin its own module named after it`
          : "export an object or class with name and transform from it",
      });
    }
    result.push(plugin);
  }
  return result;
}

/** The plugin modules directly in `directory`, by file name; symbolic links are not followed. */
async function moduleFiles(directory: string): Promise<Map<string, string>> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (err) {
    throw new PluginError(`cannot read the plugins directory ${directory}`, { cause: err, where: directory });
  }
  const files = new Map<string, string>();
  for (const entry of entries) {
    if (
      entry.isFile() &&
      EXTENSIONS.some((ext) => entry.name.endsWith(ext)) &&
      !entry.name.endsWith(".d.ts")
    ) {
      files.set(entry.name, join(directory, entry.name));
    }
  }
  return files;
}

type PluginClass = new () => { transform: unknown; name?: unknown };

function pluginsOf(module: Record<string, unknown>): DocumentPlugin[] {
  const found: DocumentPlugin[] = [];
  const seen = new Set<unknown>();
  for (const value of Object.values(module)) {
    if (seen.has(value)) continue;
    seen.add(value);
    if (
      typeof value === "function" &&
      typeof (value as { prototype?: { transform?: unknown } }).prototype?.transform === "function"
    ) {
      const instance = new (value as PluginClass)();
      const name = typeof instance.name === "string" ? instance.name : (value as { name: string }).name;
      found.push({ name, transform: (instance.transform as DocumentPlugin["transform"]).bind(instance) });
    } else if (isPluginObject(value)) {
      found.push(value);
    }
  }
  return found;
}

function isPluginObject(value: unknown): value is DocumentPlugin {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as DocumentPlugin).name === "string" &&
    typeof (value as DocumentPlugin).transform === "function"
  );
}

/** PGSync drops a document when a plugin returns something Python treats as false. */
export function isDropped(result: PluginResult): result is null | undefined | false {
  return !result || Object.keys(result).length === 0;
}
