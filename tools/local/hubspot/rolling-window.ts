/**
 * HubSpot's rate limit as the stand-in enforces it: a rolling window (HubSpot names its policy
 * TEN_SECONDLY_ROLLING). Every arrival counts, refused ones included, and the most arrivals seen
 * in any window is kept so a test can prove a client never went over its budget.
 */
export class RollingWindow {
  private arrivals: number[] = [];
  private head = 0;
  /** The most requests that arrived within one window, over the stand-in's life. */
  maxObserved = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Records an arrival at `now`; whether it is within the limit, and what the headers report. */
  hit(now: number): { allowed: boolean; remaining: number; retryAfterMs: number } {
    while (this.head < this.arrivals.length && this.arrivals[this.head]! <= now - this.windowMs) this.head++;
    if (this.head > 1024) {
      this.arrivals = this.arrivals.slice(this.head);
      this.head = 0;
    }
    const before = this.arrivals.length - this.head;
    this.arrivals.push(now);
    this.maxObserved = Math.max(this.maxObserved, before + 1);
    const allowed = before < this.limit;
    const oldest = this.arrivals[this.head]!;
    return {
      allowed,
      remaining: Math.max(0, this.limit - before - 1),
      retryAfterMs: allowed ? 0 : Math.max(1, oldest + this.windowMs - now),
    };
  }
}
