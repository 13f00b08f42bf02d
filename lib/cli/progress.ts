import type { TextOutput } from "./command";
import { formatDuration } from "./output";

export interface ProgressOptions {
  /** Where to draw: stderr, so stdout stays clean for data. Nothing is drawn unless it is a TTY. */
  out: TextOutput;
  label: string;
  /** Expected total; without it the bar shows the count and rate only. */
  total?: number;
  /** Unit after the counts, e.g. `documents`. */
  unit?: string;
  /** Least time between redraws (default 100 ms): drawing per item would cost more than the work. */
  intervalMs?: number;
  /** Width of the bar in characters (default 24). */
  width?: number;
  now?: () => number;
}

/**
 * A one-line progress bar with rate and ETA, redrawn in place on a terminal and silent otherwise
 * (logs and pipes get the command's own summary lines instead).
 *
 * ```ts
 * const bar = new ProgressBar({ out: ctx.stderr, label: "copying", total: ranges, unit: "ranges" });
 * bar.tick();            // one more done
 * bar.finish("copied");  // final line, then a newline
 * ```
 */
export class ProgressBar {
  private done = 0;
  private total: number | undefined;
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private finished = false;
  private readonly now: () => number;
  private readonly enabled: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.total = options.total;
    this.enabled = options.out.isTTY === true;
  }

  /** Adds `n` done items. */
  tick(n = 1): void {
    this.update(this.done + n);
  }

  /** Sets the number of done items. */
  update(done: number): void {
    this.done = done;
    this.draw(false);
  }

  /** Changes the expected total (e.g. once a count query returns). */
  setTotal(total: number | undefined): void {
    this.total = total;
    this.draw(false);
  }

  /** Draws the final state and ends the line; later calls do nothing. */
  finish(label?: string): void {
    if (this.finished) return;
    this.draw(true, label);
    if (this.enabled) this.options.out.write("\n");
    this.finished = true;
  }

  /** The line as it would be drawn now (without the carriage return). */
  render(label = this.options.label): string {
    const elapsed = Math.max(1, this.now() - this.started);
    const rate = (this.done * 1000) / elapsed;
    const unit = this.options.unit ? ` ${this.options.unit}` : "";
    const parts = [label];
    if (this.total !== undefined && this.total > 0) {
      const fraction = Math.min(1, this.done / this.total);
      const width = this.options.width ?? 24;
      const filled = Math.round(fraction * width);
      parts.push(`[${"#".repeat(filled)}${"-".repeat(width - filled)}]`);
      parts.push(`${Math.floor(fraction * 100)}%`);
      parts.push(`${count(this.done)}/${count(this.total)}${unit}`);
    } else {
      parts.push(`${count(this.done)}${unit}`);
    }
    parts.push(`${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s`);
    if (this.total !== undefined && this.done < this.total && rate > 0) {
      parts.push(`ETA ${formatDuration(((this.total - this.done) / rate) * 1000)}`);
    } else if (this.total !== undefined && this.done >= this.total) {
      parts.push(`in ${formatDuration(elapsed)}`);
    }
    return parts.join("  ");
  }

  private draw(force: boolean, label?: string): void {
    if (!this.enabled || this.finished) return;
    const now = this.now();
    if (!force && now - this.lastDraw < (this.options.intervalMs ?? 100)) return;
    this.lastDraw = now;
    // \r back to the start of the line, ESC[2K clears what a longer previous line left behind.
    this.options.out.write(`\r\u001b[2K${this.render(label)}`);
  }
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}
