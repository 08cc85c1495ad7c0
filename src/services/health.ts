import type { SupabaseRpc } from "../../core/stores/supabase-rpc";

export interface DependencyHealth {
  status: "healthy" | "down";
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: "healthy" | "degraded";
  dependencies: { d1: DependencyHealth; supabase: DependencyHealth };
}

/** Probes both stores in parallel, each bounded by `timeoutMs` so a hung store cannot hang /health. */
export async function checkHealth(
  deps: { db: D1Database; supabase: () => SupabaseRpc },
  timeoutMs = 3000,
): Promise<HealthReport> {
  const [d1, supabase] = await Promise.all([
    probe(() => deps.db.prepare("SELECT 1").first(), timeoutMs),
    probe(() => deps.supabase().call("sync_ping", {}), timeoutMs),
  ]);
  return {
    status: d1.status === "healthy" && supabase.status === "healthy" ? "healthy" : "degraded",
    dependencies: { d1, supabase },
  };
}

async function probe(fn: () => Promise<unknown>, timeoutMs: number): Promise<DependencyHealth> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)),
      ),
    ]);
    return { status: "healthy", latencyMs: Date.now() - started };
  } catch (error) {
    return {
      status: "down",
      latencyMs: Date.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
