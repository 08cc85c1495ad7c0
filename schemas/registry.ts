import { isExternalAuthority, type EntityDefinition, type Store } from "./define-entity";
import { campaigns } from "./entities/campaigns";
import { contacts } from "./entities/contacts";
import { emails } from "./entities/emails";
import { inboxItems } from "./entities/inbox-items";
import { mailboxes } from "./entities/mailboxes";
import { prospects } from "./entities/prospects";

/**
 * The source-of-truth matrix (seed 000). Adding an entity: a schema file, a line here, and
 * migrations for both stores. Validation, queue routing and the apply SQL all read from this.
 */
export const ENTITIES = [prospects, campaigns, mailboxes, inboxItems, emails, contacts] as const;

export type EntityName = (typeof ENTITIES)[number]["name"];
export const ENTITY_NAMES = ENTITIES.map((e) => e.name) as [EntityName, ...EntityName[]];

const byName = new Map<string, EntityDefinition>(ENTITIES.map((e) => [e.name, e]));
const byTable = new Map<string, EntityDefinition>(ENTITIES.map((e) => [e.table, e]));

export function entityByName(name: string): EntityDefinition | undefined {
  return byName.get(name);
}

export function entityByTable(table: string): EntityDefinition | undefined {
  return byTable.get(table);
}

/** Entities whose replica lives in `store`: what a consumer for that store may write. */
export function replicatedInto(store: Store): EntityDefinition[] {
  return ENTITIES.filter((e) => e.replica === store);
}

/**
 * Replicated entities whose authority is one of our stores: the ones reconciliation compares (and
 * the cron reconciles). An entity owned outside (HubSpot) cannot be read back as a source.
 */
export function reconcilable(): EntityDefinition[] {
  return ENTITIES.filter((e) => e.replica !== null && !isExternalAuthority(e.authority));
}

/** Queue names as declared in wrangler.toml. The registry, not the producer, picks the queue. */
export const QUEUES = {
  toD1: "to-d1",
  toSupabase: "to-supabase",
  toD1Dlq: "to-d1-dlq",
  toSupabaseDlq: "to-supabase-dlq",
} as const;
/** Not a data queue: replay job ticks (consumers/control-queue.ts). */
export const CONTROL_QUEUE = "sync-control";
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export function queueFor(entity: EntityDefinition): typeof QUEUES.toD1 | typeof QUEUES.toSupabase {
  if (entity.replica === "d1") return QUEUES.toD1;
  if (entity.replica === "supabase") return QUEUES.toSupabase;
  throw new Error(`entity ${entity.name} is not replicated`);
}

export function dlqFor(queue: QueueName): typeof QUEUES.toD1Dlq | typeof QUEUES.toSupabaseDlq {
  return queue === QUEUES.toD1 || queue === QUEUES.toD1Dlq ? QUEUES.toD1Dlq : QUEUES.toSupabaseDlq;
}

/** The store a work queue writes into. */
export function targetStoreOf(queue: QueueName): Store {
  return queue === QUEUES.toD1 || queue === QUEUES.toD1Dlq ? "d1" : "supabase";
}
