/**
 * Stops calling a dependency that keeps failing. After `threshold` consecutive transient failures
 * the circuit opens: callers fail fast (and their messages back off in the queue) instead of
 * piling connections onto a database that is down. After `openMs` one trial call is let through
 * (half-open); its success closes the circuit, its failure opens it again.
 * One breaker per store per isolate: every batch the isolate consumes shares it.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private trialInFlight = false;

  constructor(
    readonly name: string,
    private readonly opts: { threshold?: number; openMs?: number; now?: () => number } = {},
  ) {}

  get state(): "closed" | "open" | "half-open" {
    if (this.openedAt === null) return "closed";
    return this.now() - this.openedAt >= this.openMs ? "half-open" : "open";
  }

  /** May a call go out now? In half-open state only one trial at a time. */
  allows(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** Milliseconds until a trial call is allowed (0 when closed or half-open). */
  retryInMs(): number {
    return this.openedAt === null ? 0 : Math.max(0, this.openedAt + this.openMs - this.now());
  }

  success(): void {
    this.failures = 0;
    this.openedAt = null;
    this.trialInFlight = false;
  }

  failure(): void {
    this.failures++;
    this.trialInFlight = false;
    if (this.openedAt !== null || this.failures >= (this.opts.threshold ?? 3)) this.openedAt = this.now();
  }

  private get openMs() {
    return this.opts.openMs ?? 30_000;
  }

  private now() {
    return (this.opts.now ?? Date.now)();
  }
}
