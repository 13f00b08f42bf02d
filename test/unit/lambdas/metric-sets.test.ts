import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../../lambdas/context";
import { ALARM_METRICS, DASHBOARD_METRICS, publishes } from "../../../lambdas/metric-sets";

const root = join(import.meta.dirname, "..", "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

/** Every metric name the handlers publish (`metrics.addMetric("Name", ...)`). */
function publishedNames(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(join(root, "lambdas")).filter((f) => f.endsWith(".ts"))) {
    for (const m of read(`lambdas/${file}`).matchAll(/addMetric\(\s*"([A-Za-z]+)"/g)) names.add(m[1] ?? "");
  }
  return names;
}

const quoted = (text: string, name: string) => text.includes(`"${name}"`);

describe("the metric selections", () => {
  const published = publishedNames();
  const alarms = read("infra/alarms.ts") + read("infra/metrics.ts");
  const dashboard = read("infra/dashboard.ts");

  it("keep every metric an alarm reads in every selection, and every dashboard metric in the standard one", () => {
    expect(published.size).toBeGreaterThan(10);
    for (const name of published) {
      if (quoted(alarms, name)) expect([name, ALARM_METRICS.has(name)]).toEqual([name, true]);
      if (quoted(dashboard, name)) expect([name, publishes("standard", name)]).toEqual([name, true]);
    }
  });

  it("name only metrics the handlers publish", () => {
    for (const name of [...ALARM_METRICS, ...DASHBOARD_METRICS])
      expect([name, published.has(name)]).toEqual([name, true]);
  });

  it("leave out of the standard set what neither an alarm nor the dashboard reads", () => {
    const dropped = [...published].filter((name) => !publishes("standard", name));
    expect(dropped.length).toBeGreaterThan(0);
    for (const name of dropped) expect(quoted(alarms, name) || quoted(dashboard, name)).toBe(false);
  });
});

describe("createMetrics", () => {
  const stored = (selection: string | undefined) => {
    const metrics = createMetrics("slotsync-test", {
      ...(selection ? { SLOTSYNC_METRICS: selection } : {}),
      POWERTOOLS_METRICS_NAMESPACE: "test",
    });
    metrics.addMetric("SchemaDrift", "Count", 1);
    metrics.addMetric("KeysSent", "Count", 1);
    metrics.addMetric("Retried", "Count", 1);
    const names = (metrics.serializeMetrics()._aws.CloudWatchMetrics[0]?.Metrics ?? []).map((m) => m.Name);
    metrics.clearMetrics();
    return names.sort();
  };

  it("publishes the standard set by default, fewer with alarms, every one with all", () => {
    expect(stored(undefined)).toEqual(["KeysSent", "SchemaDrift"]);
    expect(stored("alarms")).toEqual(["SchemaDrift"]);
    expect(stored("all")).toEqual(["KeysSent", "Retried", "SchemaDrift"]);
  });
});
