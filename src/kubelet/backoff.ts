/**
 * The kubelet's crash-loop and image-pull back-off: per key (pod uid + container name), the
 * delay starts at `initialMs` and doubles up to `maxMs` each time the container is restarted.
 * As upstream's flowcontrol.Backoff is used by kuberuntime: the first restart after a crash
 * happens at once (there is no entry yet); a later one waits until `finishedAt + delay`. An
 * entry untouched for twice the maximum delay is forgotten, so a container that ran well for
 * a long time starts again from the initial delay.
 */
export class Backoff {
  private entries = new Map<string, { delayMs: number; lastUpdate: number }>();

  constructor(readonly initialMs = 10_000, readonly maxMs = 300_000, private readonly now: () => number = Date.now) {}

  /** Whether a restart is still held back, given when the container finished (ms since the epoch). */
  inBackoffSince(key: string, finishedAt: number): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    if (this.now() - e.lastUpdate > 2 * this.maxMs) { this.entries.delete(key); return false; }
    return this.now() - finishedAt < e.delayMs;
  }

  /** When the hold on `key` ends (ms since the epoch). */
  releaseAt(key: string, finishedAt: number): number {
    const e = this.entries.get(key);
    return e ? finishedAt + e.delayMs : this.now();
  }

  delayOf(key: string): number { return this.entries.get(key)?.delayMs ?? 0; }

  /** Records a restart: the next one waits longer. */
  next(key: string): void {
    const e = this.entries.get(key);
    const now = this.now();
    if (!e || now - e.lastUpdate > 2 * this.maxMs) this.entries.set(key, { delayMs: this.initialMs, lastUpdate: now });
    else this.entries.set(key, { delayMs: Math.min(e.delayMs * 2, this.maxMs), lastUpdate: now });
  }

  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
