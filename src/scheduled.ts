import { queueBindings } from "../producers/publish";
import { sweepOutbox } from "../producers/outbox";
import type { Env } from "./env";

/** Cron: republish D1 outbox rows whose publish did not happen right after their write. */
export async function runScheduled(env: Env): Promise<void> {
  const result = await sweepOutbox({ db: env.DB, queues: queueBindings(env) });
  console.log(JSON.stringify({ msg: "outbox sweep", ...result }));
}
