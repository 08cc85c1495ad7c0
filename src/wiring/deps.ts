import type { Env } from "../env";
import { queueBindings, type QueueBindings } from "../../producers/publish";
import { noAlerts, webhookAlerts, type AlertSink } from "../../core/ledger/alerts";
import { readSettings, type Settings } from "../../core/settings";
import type { SupabaseRpc } from "../../core/stores/supabase-rpc";
import { breakers } from "./breakers";
import { supabaseFromEnv } from "./supabase-from-env";

/** What handlers get instead of env: built once per request, queue batch or cron run. */
export interface WorkerDeps {
  db: D1Database;
  queues: QueueBindings;
  /** Replay job ticks. */
  control: Queue;
  /**
   * Supabase, connected on first use and then shared by the whole request / batch / run. Missing
   * configuration throws CONFIG_MISSING (transient) from here, so it fails only what needs Supabase.
   */
  supabase: () => SupabaseRpc;
  alert: AlertSink;
  settings: Settings;
  breakers: typeof breakers;
}

export function workerDeps(env: Env): WorkerDeps {
  let rpc: SupabaseRpc | undefined;
  return {
    db: env.DB,
    queues: queueBindings(env),
    control: env.CONTROL,
    supabase: () => (rpc ??= supabaseFromEnv(env)),
    alert: env.ALERT_WEBHOOK_URL ? webhookAlerts(env.ALERT_WEBHOOK_URL, env.ALERT_WEBHOOK_SECRET) : noAlerts,
    settings: readSettings(env),
    breakers,
  };
}
