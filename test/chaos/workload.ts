import type postgres from "postgres";
import { emailStatusMachine, type EmailStatus } from "../../schemas/entities/emails";
import { prospectStageMachine, type ProspectStage } from "../../schemas/entities/prospects";
import { CHAOS_SECRETS } from "./chaos-stack";
import { pick, seededRandom, weighted } from "./rng";

type Q = postgres.Sql | postgres.TransactionSql;
type Table = "prospects" | "campaigns" | "mailboxes" | "inbox_items";
const TABLES: Table[] = ["prospects", "campaigns", "mailboxes", "inbox_items"];

export interface WorkloadStats {
  ops: number;
  /** Statements the database refused (a row deleted meanwhile, a stage that moved on, …). */
  rejected: number;
  rolledBack: number;
  byKind: Record<string, number>;
}

/** Ids the writers know of, shared between them; stale entries are harmless (0 rows touched). */
class Live {
  ids: Record<Table, string[]> = { prospects: [], campaigns: [], mailboxes: [], inbox_items: [] };
  stages = new Map<string, ProspectStage>();
  /** Prospects that emails point at: never deleted, so no email can lose its prospect. */
  emailTargets: string[] = [];
  emails = new Map<string, { status: EmailStatus; version: number }>();

  add(t: Table, id: string) {
    this.ids[t].push(id);
  }
  any(t: Table, random: () => number): string | undefined {
    const list = this.ids[t];
    return list.length ? list[Math.floor(random() * list.length)] : undefined;
  }
  remove(t: Table, random: () => number): string | undefined {
    const list = this.ids[t];
    if (!list.length) return undefined;
    const i = Math.floor(random() * list.length);
    const [id] = list.splice(i, 1);
    return id;
  }
}

/**
 * Concurrent writers doing a seeded mix of inserts, updates, deletes, stage moves, transactions
 * that stay open and commit late (or roll back), bulk statements touching hundreds of rows, and
 * email sends/status changes through the worker's API (the D1 → Supabase direction).
 */
export async function runWorkload(ctx: {
  sql: postgres.Sql;
  workerUrl: string;
  seed: number;
  ops: number;
  writers: number;
  progress: (done: number) => void;
}): Promise<WorkloadStats> {
  const stats: WorkloadStats = { ops: 0, rejected: 0, rolledBack: 0, byKind: {} };
  const live = new Live();
  const { sql } = ctx;
  let budget = ctx.ops;
  const take = (n = 1) => {
    if (budget <= 0) return false;
    budget -= n;
    stats.ops += n;
    ctx.progress(stats.ops);
    return true;
  };
  const count = (kind: string) => (stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1);
  const guard = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch {
      stats.rejected++;
    }
  };

  // Seed data: some of everything, and the prospects that emails will reference.
  for (let i = 0; i < 20; i++)
    live.add(
      "mailboxes",
      (await sql`insert into mailboxes (email) values (${`box${i}@crm.test`}) returning id`)[0]!.id,
    );
  for (let i = 0; i < 30; i++) {
    const [p] =
      await sql`insert into prospects (name, contact_email) values (${`Target ${i}`}, ${`t${i}@hotel.test`}) returning id`;
    live.emailTargets.push(p!.id);
  }

  type EmailReply = { data?: { email?: { id: string; version: number; status: EmailStatus } } };
  // A refused or dropped connection is a rejected write, as it would be for the sending worker.
  const api = async (method: string, path: string, body: unknown): Promise<{ status: number; json: EmailReply }> => {
    try {
      const r = await fetch(`${ctx.workerUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${CHAOS_SECRETS.API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: r.status, json: (await r.json()) as EmailReply };
    } catch {
      return { status: 0, json: {} };
    }
  };

  const ops = {
    insert: async (q: Q, random: () => number) => {
      const t = pick(random, TABLES);
      count(`insert:${t}`);
      await guard(async () => {
        const n = Math.floor(random() * 1e6);
        if (t === "prospects") {
          const [r] =
            await q`insert into prospects (name, city, contact_email, score) values (${`Hotel ${n}`}, ${pick(random, ["Zürich", "Lisbon", null])}, ${`gm${n}@hotel.test`}, ${n % 100}) returning id`;
          live.add(t, r!.id);
          live.stages.set(r!.id, "new");
        } else if (t === "mailboxes") {
          live.add(
            t,
            (
              await q`insert into mailboxes (email, daily_limit) values (${`m${n}@crm.test`}, ${n % 200}) returning id`
            )[0]!.id,
          );
        } else if (t === "campaigns") {
          live.add(
            t,
            (
              await q`insert into campaigns (name, mailbox_id, status) values (${`Campaign ${n}`}, ${live.any("mailboxes", random) ?? null}, ${pick(random, ["draft", "active"])}) returning id`
            )[0]!.id,
          );
        } else {
          const box = live.any("mailboxes", random);
          if (!box) return;
          live.add(
            t,
            (
              await q`insert into inbox_items (mailbox_id, prospect_id, from_email, subject) values (${box}, ${live.any("prospects", random) ?? null}, ${`x${n}@hotel.test`}, ${`Re: ${n}`}) returning id`
            )[0]!.id,
          );
        }
      });
    },
    update: async (q: Q, random: () => number) => {
      const t = pick(random, TABLES);
      const id = live.any(t, random);
      if (!id) return;
      count(`update:${t}`);
      await guard(async () => {
        const n = Math.floor(random() * 1e6);
        if (t === "prospects") {
          const from = live.stages.get(id) ?? "new";
          const moves = prospectStageMachine.transitions[from];
          if (random() < 0.5 && moves.length) {
            const to = pick(random, moves);
            const r = await q`update prospects set stage = ${to} where id = ${id} and stage = ${from}`;
            if (r.count === 1) live.stages.set(id, to);
          } else {
            await q`update prospects set score = ${n % 100}, name = ${`Hotel ${n}`} where id = ${id}`;
          }
        } else if (t === "mailboxes") await q`update mailboxes set health_score = ${n % 101} where id = ${id}`;
        else if (t === "campaigns")
          await q`update campaigns set daily_limit = ${n % 500}, status = ${pick(random, ["active", "paused"])} where id = ${id}`;
        else
          await q`update inbox_items set is_read = not is_read, category = ${pick(random, ["reply", "ooo", null])} where id = ${id}`;
      });
    },
    delete: async (q: Q, random: () => number) => {
      const t = pick(random, TABLES);
      const id = live.remove(t, random);
      if (!id) return;
      count(`delete:${t}`);
      await guard(() => q`delete from ${q(t)} where id = ${id}`);
    },
  };
  type Simple = keyof typeof ops;
  const simple = (random: () => number): Simple => weighted(random, { insert: 3, update: 5, delete: 1.2 });

  const longTransaction = async (random: () => number) => {
    const steps = 2 + Math.floor(random() * 3);
    if (!take(steps)) return;
    count("long-transaction");
    try {
      await sql.begin(async (tx) => {
        for (let i = 0; i < steps; i++) await ops[simple(random)](tx, random);
        await new Promise((r) => setTimeout(r, 200 + random() * 1800)); // stays open while others commit
        if (random() < 0.1) throw new Error("rollback");
      });
    } catch {
      stats.rolledBack++;
    }
  };

  const bulk = async (random: () => number) => {
    if (!take()) return;
    if (random() < 0.5) {
      count("bulk-update");
      const ids = Array.from({ length: 100 + Math.floor(random() * 300) }, () => live.any("prospects", random)).filter(
        Boolean,
      );
      await guard(() => sql`update prospects set score = score + 1 where id = any(${ids as string[]}::uuid[])`);
    } else {
      count("bulk-insert");
      const n = 100 + Math.floor(random() * 300);
      await guard(async () => {
        const rows =
          await sql`insert into campaigns (name, daily_limit) select 'Bulk ' || g, g from generate_series(1, ${n}::int) g returning id`;
        for (const r of rows) live.add("campaigns", r.id);
      });
    }
  };

  const email = async (random: () => number) => {
    if (!take()) return;
    const known = [...live.emails.entries()].filter(([, e]) => emailStatusMachine.transitions[e.status].length);
    if (known.length && random() < 0.6) {
      count("email-status");
      const [id, e] = pick(random, known);
      const to = pick(random, emailStatusMachine.transitions[e.status]);
      const at = new Date().toISOString();
      const r = await api("PATCH", `/v1/emails/${id}`, {
        status: to,
        expectedVersion: e.version,
        at,
        ...(to === "failed" ? { error: "chaos" } : {}),
      });
      if (r.status === 200 && r.json.data?.email)
        live.emails.set(id, { status: r.json.data.email.status, version: r.json.data.email.version });
      else stats.rejected++;
    } else {
      count("email-send");
      const sent = random() < 0.7;
      const r = await api("POST", "/v1/emails", {
        prospect_id: pick(random, live.emailTargets),
        to_email: "gm@hotel.test",
        from_email: "sales@crm.test",
        subject: "Hello",
        body: "Hi",
        status: sent ? "sent" : "pending",
        ...(sent ? { sent_at: new Date().toISOString() } : {}),
      });
      if (r.status === 201 && r.json.data?.email)
        live.emails.set(r.json.data.email.id, { status: r.json.data.email.status, version: 1 });
      else stats.rejected++;
    }
  };

  const writer = async (w: number) => {
    const random = seededRandom(ctx.seed * 1009 + w);
    while (budget > 0) {
      const kind = weighted(random, { simple: 80, long: 3, bulk: 1, email: 16 });
      if (kind === "simple") {
        if (!take()) return;
        await ops[simple(random)](sql, random);
      } else if (kind === "long") await longTransaction(random);
      else if (kind === "bulk") await bulk(random);
      else await email(random);
    }
  };
  await Promise.all(Array.from({ length: ctx.writers }, (_, w) => writer(w)));
  return stats;
}
