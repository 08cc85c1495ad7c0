import type { ReplicaTarget } from "../apply-batch";
import type { ValidEvent } from "../validate-event";
import type { SupabaseRpc } from "./supabase-rpc";

/**
 * Supabase as a replica: the whole batch is one call of sync_apply_batch(jsonb), one transaction.
 * Its answer (migration 0010) leaves out `conflict` unless true and `updated_at` unless the row
 * held is newer than the event: read as false and as none.
 */
/** sync_apply_batch's argument: each event's envelope and its validated row. */
export function applyBatchPayload(events: ValidEvent[]) {
  return events.map(({ event, row }) => ({
    id: event.id,
    entity: event.entity,
    op: event.op,
    key: event.key,
    version: event.version,
    row,
  }));
}

export function supabaseReplica(rpc: SupabaseRpc): ReplicaTarget {
  return {
    store: "supabase",
    async apply(events) {
      const payload = applyBatchPayload(events);
      const outcomes = await rpc.call<
        Array<{ event_id: string; current_version: number; conflict?: boolean; updated_at?: string | null }>
      >("sync_apply_batch", { p_events: payload });
      return new Map(
        outcomes.map((o) => [
          o.event_id,
          { version: Number(o.current_version), conflict: o.conflict === true, updatedAt: o.updated_at ?? null },
        ]),
      );
    },
  };
}
