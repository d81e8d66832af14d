// Fixed-window request counters for the connect endpoints, per client address
// and per connect token. In memory, so each instance counts on its own: behind
// a load balancer the effective limit is the per-instance one times the number
// of instances, which still bounds guessing and hammering.

export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    /** Bounds memory when many addresses appear at once. */
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one request for `key`: 0 when allowed, else the seconds until it would be. */
  hit(key: string, now = Date.now()): number {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (this.windows.size >= this.maxKeys) this.prune(now);
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count > this.limit ? Math.max(1, Math.ceil((window.resetAt - now) / 1000)) : 0;
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    // Still full of live windows: forget them all rather than grow without bound.
    if (this.windows.size >= this.maxKeys) this.windows.clear();
  }
}
