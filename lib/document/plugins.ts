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
  /** A directory whose modules (`.js`, `.mjs`, `.cjs`, and `.ts` under tsx) are searched recursively. */
  directory?: string;
  /** Plugins supplied directly; they take precedence over modules of the same name. */
  registry?: readonly DocumentPlugin[];
}

const MODULE = /\.(m?js|cjs|m?ts)$/;
const SKIP = /(\.d\.ts|\.test\.[cm]?[jt]s|\.spec\.[cm]?[jt]s)$/;

/**
 * Finds the plugins named by a schema, in the order named.
 * @throws PluginError when a name matches no plugin, or a module cannot be imported.
 */
export async function loadPlugins(
  names: readonly string[],
  options: LoadPluginsOptions = {},
): Promise<DocumentPlugin[]> {
  if (names.length === 0) return [];
  const available = new Map<string, DocumentPlugin>();
  if (options.directory) {
    for (const file of await moduleFiles(options.directory)) {
      let module: Record<string, unknown>;
      try {
        module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      } catch (err) {
        throw new PluginError(`cannot load plugin module ${file}: ${(err as Error).message}`, {
          cause: err,
          where: file,
        });
      }
      for (const plugin of pluginsOf(module)) {
        if (available.has(plugin.name)) {
          throw new PluginError(`two plugins are named "${plugin.name}" (one in ${file})`, {
            where: file,
            fix: "give each plugin a unique name",
          });
        }
        available.set(plugin.name, plugin);
      }
    }
  }
  for (const plugin of options.registry ?? []) available.set(plugin.name, plugin);

  return names.map((name) => {
    const plugin = available.get(name);
    if (plugin) return plugin;
    const known = [...available.keys()];
    throw new PluginError(`plugin "${name}" not found${didYouMean(name, known)}`, {
      where: options.directory,
      fix: known.length
        ? `available plugins: ${known.join(", ")}`
        : "put the plugin module in the plugins directory, exporting an object or class with name and transform",
    });
  });
}

async function moduleFiles(directory: string): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (err) {
    throw new PluginError(`cannot read the plugins directory ${directory}`, { cause: err, where: directory });
  }
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(directory, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules" && !entry.name.startsWith(".")) {
      files.push(...(await moduleFiles(path)));
    } else if (entry.isFile() && MODULE.test(entry.name) && !SKIP.test(entry.name)) {
      files.push(path);
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
