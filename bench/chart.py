"""Draws bench/results/latest.png from the benchmark's JSON result (run by bench/report.ts)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

result = json.load(open(sys.argv[1]))
out = sys.argv[2]
b = result["bootstrap"]
s = result["steady"]
lat = result["latency"]

fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
colours = {"slotsync": "#2b6cb0", "ceiling": "#a0aec0", "PGSync": "#dd6b20"}

ax = axes[0]
names = ["slotsync", "ceiling", "PGSync"]
values = [b["slotsync"]["documentsPerSecond"], b["ceiling"]["documentsPerSecond"], b["pgsync"]["documentsPerSecond"]]
bars = ax.bar(names, values, color=[colours[n] for n in names])
ax.bar_label(bars, labels=[f"{v:,}" for v in values])
ax.set_title(f"Bootstrap, {b['rows']:,} books (documents/s)")

ax = axes[1]
figures = [("slotsync", s["slotsync"]["sustained"], s["slotsync"]["lowerBound"], "slotsync")]
for v in s["pgsync"]["variants"]:
    figures.append((f"PGSync\n{v['variant']}", v["best"]["sustained"], v["best"]["lowerBound"], "PGSync"))
bars = ax.bar([f[0] for f in figures], [max(f[1], 0.5) for f in figures], color=[colours[f[3]] for f in figures])
ax.bar_label(bars, labels=[f"{f[1]:,}{'+' if f[2] else ''}" if f[1] else "none" for f in figures])
ax.set_yscale("log")
ax.set_title("Steady state: kept-up row changes/s (log scale)")

ax = axes[2]
groups = [
    ("slotsync, latency mode", lat["scheduled"]),
    ("slotsync, poller always on", lat["continuous"]),
    ("slotsync, 2 s batching window", lat["withBatchingWindow"]),
]
if lat.get("pgsync"):
    groups.append((f"PGSync daemon at {lat['pgsyncRate']:,}/s", lat["pgsync"]))
width = 0.8 / len(groups)
for i, (label, summary) in enumerate(groups):
    xs = [j + i * width for j in range(3)]
    ax.bar(xs, [summary["p50"], summary["p95"], summary["p99"]], width, label=label)
ax.set_xticks([j + width * (len(groups) - 1) / 2 for j in range(3)], ["p50", "p95", "p99"])
ax.axhline(result["targets"]["latencyP99Seconds"], color="red", linestyle="--", linewidth=1, label="p99 target")
ax.set_title(f"Commit to searchable at {lat['rate']:,} changes/s (s)")
ax.legend(fontsize=8)

fig.suptitle(f"slotsync benchmark, {result['date'][:10]} (2-core shared machine; compare ratios, not absolutes)")
fig.tight_layout()
fig.savefig(out, dpi=80)
