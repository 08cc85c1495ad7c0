import { describe, expect, it } from "vitest";
import { applyBatch } from "../core/apply-batch";
import { supabaseReplica } from "../core/stores/supabase-replica";
import { postgresRpc } from "../core/stores/supabase-postgres";
import { contactUuid, hubspotIdOfContact } from "../schemas/hubspot/contact-id";
import { deliver } from "./support/fixtures";
import { pg } from "./support/helpers";
import { contact, contactRows, eventsFor, newHubSpotId, tombstone } from "./support/hubspot";

// HubSpot contacts through the to-supabase queue handler into the real Postgres (issue 13).
// Failures, replays and the operations HubSpot-owned entities refuse: hubspot-contact-failures.test.ts.

/** What the to-supabase consumer decides for each event (applied / stale / failed), on the real Postgres. */
const outcomes = async (events: unknown[]) =>
  (await applyBatch(supabaseReplica(postgresRpc(pg())), events)).map((o) =>
    o.kind === "failed" ? `failed: ${o.error.code}` : o.kind,
  );

describe("HubSpot contact ids", () => {
  it("map to one UUID each and back, and refuse what is not a HubSpot object id", () => {
    const ids = ["1", "51", "9007199254740993", "9223372036854775807"];
    const uuids = ids.map(contactUuid);
    expect(new Set(uuids).size).toBe(ids.length);
    for (const [i, u] of uuids.entries()) {
      expect(u).toMatch(/^68756273-706f-8[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(hubspotIdOfContact(u)).toBe(ids[i]);
    }
    for (const bad of ["0", "01", "-5", "1.5", "9223372036854775808", "abc", ""])
      expect(() => contactUuid(bad)).toThrow(/HubSpot object id/);
    expect(hubspotIdOfContact(crypto.randomUUID())).toBeNull();
  });
});

describe("contactEvents", () => {
  it("archives at max(archivedAt, updatedAt); a contact with no usable id or time is a dead letter carrying the contact", async () => {
    const a = newHubSpotId();
    const b = newHubSpotId();
    const made = await eventsFor([
      contact(a, "2025-06-01T11:00:00.000Z", {}, { archived: true, archivedAt: "2025-06-01T10:00:00.000Z" }),
      contact(b, "2025-06-01T11:00:00.000Z", {}, { archived: true }),
      contact("12abc", "2025-06-01T11:00:00.000Z"),
      contact(newHubSpotId(), "yesterday"),
    ]);
    expect(made.events.map((e) => [e.key.id, e.op, e.version])).toEqual([
      [contactUuid(a), "delete", Date.parse("2025-06-01T11:00:00.000Z")],
      [contactUuid(b), "delete", Date.parse("2025-06-01T11:00:00.000Z")],
    ]);
    expect(made.failures.map((f) => f.letter.error.code)).toEqual(["SCHEMA_VIOLATION", "SCHEMA_VIOLATION"]);
    expect(made.failures[0]!.letter.error.message).toMatch(/id: must be a HubSpot object id/);
    expect(made.failures[0]!.letter.event).toMatchObject({ id: "12abc", archived: false });
    expect(made.failures[1]!.letter.error.message).toMatch(/updatedAt/);

    // Too large for a queue message (counted in UTF-8 bytes): a dead letter without its row, so it still fits.
    const huge = newHubSpotId();
    const big = await eventsFor([contact(huge, "2025-06-01T11:00:00.000Z", { notes: "я".repeat(70_000) })]);
    expect(big.events).toEqual([]);
    expect(big.failures[0]!.letter).toMatchObject({
      error: { code: "EVENT_TOO_LARGE" },
      event: { key: { id: contactUuid(huge) }, op: "upsert", row: null },
    });
  });
});

describe("contact events through the to-supabase consumer", () => {
  it("land in Supabase exactly once, at version = updatedAt in ms, with every property in data", async () => {
    const id = newHubSpotId();
    const updatedAt = "2025-05-06T07:08:09.123Z";
    const made = await eventsFor([contact(id, updatedAt, { zeta: "last", alpha: "first" })]);
    expect(made.failures).toEqual([]);
    const [event] = made.events;
    expect(event).toMatchObject({
      entity: "contacts",
      op: "upsert",
      version: Date.parse(updatedAt),
      key: { id: contactUuid(id) },
    });
    // Properties sorted by name: two reads of one state compare equal within a batch.
    const data = (event!.row as { data: Record<string, unknown> }).data;
    expect(Object.keys(data)).toEqual(Object.keys(data).sort());
    // The same state read again is the same event (derived id), so it is one failed task at most.
    expect((await eventsFor([contact(id, updatedAt, { zeta: "last", alpha: "first" })])).events[0]!.id).toBe(event!.id);

    const first = await deliver("to-supabase", [event, event]);
    expect(first.result.retryMessages).toEqual([]);
    expect(first.result.explicitAcks.sort()).toEqual([...first.ids].sort());
    // A duplicate: the replica holds this very version in this very state (idempotent, no conflict).
    expect(await outcomes([event])).toEqual(["applied"]);

    const rows = await contactRows(id);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({
      id: contactUuid(id),
      hubspot_id: id,
      email: `c${id}@example.test`,
      first_name: "Ada",
      last_name: "Lovelace",
      phone: null,
      company: "Analytical Engines",
      sync_status: "synced",
      prospect_id: null,
    });
    expect(Number(row.v)).toBe(Date.parse(updatedAt));
    expect(row.updated_at.toISOString()).toBe(updatedAt);
    expect(row.last_sync).toBeInstanceOf(Date);
    expect(row.data).toMatchObject({ alpha: "first", zeta: "last", hs_object_id: id, phone: null });

    // A cleared property arrives as "" or null: no value in its column either way; data keeps it as sent.
    const cleared = await eventsFor([contact(id, "2025-05-06T07:09:00.000Z", { email: "", firstname: "" })]);
    await deliver("to-supabase", cleared.events);
    expect((await contactRows(id))[0]).toMatchObject({
      email: null,
      first_name: null,
      data: { email: "", firstname: "" },
    });
  });

  it("an older change never overwrites a newer one, in one batch or across batches", async () => {
    const a = newHubSpotId();
    const b = newHubSpotId();
    const older = (id: string) => contact(id, "2025-05-06T07:00:00.000Z", { firstname: "Old" });
    const newer = (id: string) => contact(id, "2025-05-06T08:00:00.000Z", { firstname: "New" });
    const [oldA, newA, oldB, newB] = (await eventsFor([older(a), newer(a), older(b), newer(b)])).events;

    await deliver("to-supabase", [newA, oldA]); // one batch, newest first
    await deliver("to-supabase", [newB]);
    expect(await outcomes([oldB])).toEqual(["stale"]); // a later batch brings the older one
    for (const id of [a, b]) {
      const [row] = await contactRows(id);
      expect(row).toMatchObject({ first_name: "New" });
      expect(Number(row!.v)).toBe(Date.parse("2025-05-06T08:00:00.000Z"));
    }
  });

  it("two states read at one updatedAt: the second is refused as VERSION_CONTENT_CONFLICT, never silently picked", async () => {
    const id = newHubSpotId();
    const [first, second] = (
      await eventsFor([
        contact(id, "2025-05-07T00:00:00.000Z", { firstname: "First" }),
        contact(id, "2025-05-07T00:00:00.000Z", { firstname: "Second" }),
      ])
    ).events;
    expect(await outcomes([first])).toEqual(["applied"]);
    expect(await outcomes([second])).toEqual(["failed: VERSION_CONTENT_CONFLICT"]);
    expect((await contactRows(id))[0]).toMatchObject({ first_name: "First" });
    // The next change in HubSpot has a later updatedAt and settles it.
    const [next] = (await eventsFor([contact(id, "2025-05-07T00:00:00.001Z", { firstname: "Second" })])).events;
    expect(await outcomes([next])).toEqual(["applied"]);
    expect((await contactRows(id))[0]).toMatchObject({ first_name: "Second" });
  });

  it("an archived contact becomes a tombstone; a late older upsert does not bring it back; a restore does", async () => {
    const id = newHubSpotId();
    const live = contact(id, "2025-06-01T10:00:00.000Z");
    const archived = contact(
      id,
      "2025-06-01T11:00:00.000Z",
      {},
      {
        archived: true,
        archivedAt: "2025-06-01T11:00:00.000Z",
      },
    );
    const [upsert, del] = (await eventsFor([live, archived])).events;
    expect(del).toMatchObject({ op: "delete", row: null, version: Date.parse("2025-06-01T11:00:00.000Z") });

    await deliver("to-supabase", [upsert]);
    expect(await contactRows(id)).toHaveLength(1);
    await deliver("to-supabase", [del]);
    expect(await contactRows(id)).toHaveLength(0);
    expect(await tombstone(id)).toBe(Date.parse("2025-06-01T11:00:00.000Z"));

    expect(await outcomes([upsert])).toEqual(["stale"]);
    expect(await contactRows(id)).toHaveLength(0);

    // Restored in HubSpot later: a newer state, so it applies above the tombstone.
    const [restored] = (await eventsFor([contact(id, "2025-06-02T09:00:00.000Z", { firstname: "Back" })])).events;
    await deliver("to-supabase", [restored]);
    expect(await contactRows(id)).toMatchObject([{ first_name: "Back" }]);
  });

  it("links the prospect with the same email (any case), also when the prospect comes later or goes", async () => {
    const linked = newHubSpotId();
    const later = newHubSpotId();
    const [linkedProspect] = await pg()<Array<{ id: string }>>`insert into prospects (name, contact_email)
      values ('Hotel Linked', ${`Owner.${linked}@Example.TEST`}) returning id`;
    const prospect = linkedProspect!.id;
    const made = await eventsFor([
      contact(linked, "2025-07-01T00:00:00.000Z", { email: `owner.${linked}@example.test` }),
      contact(later, "2025-07-01T00:00:00.000Z", { email: `late.${later}@example.test` }),
    ]);
    await deliver("to-supabase", made.events);
    expect((await contactRows(linked))[0]).toMatchObject({ prospect_id: prospect });
    expect((await contactRows(later))[0]).toMatchObject({ prospect_id: null });

    const [secondProspect] = await pg()<Array<{ id: string }>>`insert into prospects (name, contact_email)
      values ('Hotel Later', ${`LATE.${later}@example.test`}) returning id`;
    const second = secondProspect!.id;
    const relinked = (await contactRows(later))[0]!;
    expect(relinked).toMatchObject({ prospect_id: second });

    // The link is Supabase's own column: a duplicate of the applied event is still a duplicate,
    // not a conflict, and it leaves the link and last_sync alone.
    expect(await outcomes([made.events[1]])).toEqual(["applied"]);
    const after = (await contactRows(later))[0]!;
    expect(after).toMatchObject({ prospect_id: second });
    expect(after.last_sync.getTime()).toBe(relinked.last_sync.getTime());

    await pg()`delete from prospects where id = ${second}`;
    expect((await contactRows(later))[0]).toMatchObject({ prospect_id: null });
  });
});
