// Read pacing for Dawn in Node on a CPU (fallback) adapter. While a mapAsync
// is pending, Dawn's Node binding polls for events from the main thread in a
// setImmediate loop, which keeps one core busy; on a CPU adapter the shaders
// run on those same cores (SwiftShader's thread pool), so the poll slows the
// work it waits for (measured: an MLP step took 44 ms polling from the start,
// 30 ms when the main thread slept first). The pacer models the device as a
// queue — each submit keeps it busy for work / rate more — learns the rate
// from reads, and sleeps on a timer for part of the predicted wait before
// mapping.

export class ReadPacer {
  /** Observed work units per millisecond (0 until a read has been timed). */
  private rate = 0;
  /** When the submitted work is predicted to be done (queue model). */
  private busyUntil = 0;
  /** Work submitted since the last completed read, when its first and last submits were. */
  private pending = 0;
  private first = 0;
  private last = 0;
  /** When the last sleep ended, or -1 if this read did not sleep. */
  private woke = -1;

  constructor(private readonly enabled: boolean) {}

  /** Called on each submit with the work it carries (FLOPs for products, elements otherwise). */
  submitted(work: number): void {
    if (!this.enabled || work <= 0) return;
    const now = performance.now();
    if (this.pending === 0) this.first = now;
    this.pending += work;
    this.last = now;
    if (this.rate > 0) this.busyUntil = Math.max(this.busyUntil, now) + work / this.rate;
  }

  /** Sleeps (without polling) for part of the predicted remaining time. */
  async beforeMap(): Promise<void> {
    if (!this.enabled || this.rate === 0 || this.pending === 0) return;
    const remaining = this.busyUntil - performance.now();
    // Undershoot: a late map costs latency, an early one only some polling.
    if (remaining > 4) {
      await new Promise((r) => setTimeout(r, Math.min(0.6 * remaining, 1000)));
      this.woke = performance.now();
    }
  }

  /** Called when a map resolved: everything submitted before it has finished. */
  completed(): void {
    if (!this.enabled || this.pending === 0) return;
    const now = performance.now(), took = now - this.first;
    if (this.woke >= 0 && now - this.woke < 0.5) {
      // Done by the time we woke: the sleep hid how fast it was, so guess faster
      // (timing this read would only confirm the estimate that made us sleep).
      this.rate *= 1.5;
    } else if (took > 2 && this.last - this.first < 0.25 * took) {
      // Learn only from reads whose work was submitted in one burst and then
      // waited for: spread-out submits include time the device sat idle.
      const seen = this.pending / took;
      // Quick to believe faster (sleeping too long costs latency), slow to believe
      // slower (a read that also waited for pipeline compiles says little).
      const w = seen > this.rate ? 0.6 : 0.1;
      this.rate = this.rate === 0 ? seen : (1 - w) * this.rate + w * seen;
    }
    this.woke = -1;
    this.pending = 0;
    this.busyUntil = now;
  }
}
