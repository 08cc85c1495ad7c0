import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SyncError } from "../../core/errors";
import { hubspotClient } from "../../producers/hubspot/client";
import type { HubSpotContact } from "../../producers/hubspot/contact";
import { allContacts, contactsModifiedBetween, incrementalWindow } from "../../producers/hubspot/modified-contacts";
import {
  authorizationUrl,
  exchangeCode,
  oauthSession,
  type HubSpotTokens,
  type TokenStore,
} from "../../producers/hubspot/oauth";
import { bucketFor, memoryRateBudget, type BucketSpec } from "../../producers/hubspot/rate-budget";
import { verifySignatureV3 } from "../../producers/hubspot/webhook-signature";
import { contactsOfEvents } from "../../producers/hubspot/webhook-contacts";
import { hubspotWebhookBatchSchema } from "../../schemas/hubspot-webhook";
import { startHubSpotStandIn, type HubSpotStandIn, type StandInOptions } from "../../tools/local/hubspot-standin";
import { sendWebhook } from "../../tools/local/hubspot/webhook-sender";
import { fakeClock } from "./support/fake-clock";

// The worker-side client against the stand-in over real HTTP. Time is a fake clock shared by
// both: the client's waits move it, the stand-in's windows and token expiry read it.
let standIn: HubSpotStandIn | undefined;
afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
});

async function setup(opts: StandInOptions & { buckets?: { general: BucketSpec; search: BucketSpec } } = {}) {
  const clock = fakeClock();
  standIn = await startHubSpotStandIn({ clock, ...opts });
  const app = { clientId: standIn.clientId, clientSecret: standIn.clientSecret, redirectUri: "http://127.0.0.1:1/cb" };
  let saved: HubSpotTokens = standIn.oauth.connect();
  const store: TokenStore & { saves: number } = {
    saves: 0,
    load: async () => saved,
    save: async (t) => {
      saved = t;
      store.saves++;
    },
  };
  const deps = { fetch, clock, baseUrl: standIn.url };
  const tokens = oauthSession(deps, app, store);
  const budget = memoryRateBudget(
    clock,
    opts.buckets ?? { general: bucketFor(100, 10_000), search: bucketFor(5, 1_000) },
  );
  const client = hubspotClient({ ...deps, tokens, budget, random: () => 0.5 });
  return { standIn, clock, client, store, app };
}

/**
 * Every contact of a full sync, counted per id. A retryable error resumes from the last cursor,
 * as the queue's retry of a sync step would; anything else fails the test.
 */
async function fullSync(client: ReturnType<typeof hubspotClient>, onPage?: (n: number) => void) {
  const seen = new Map<string, number>();
  let page = 0;
  let after: string | undefined;
  let resumes = 0;
  for (;;) {
    try {
      for await (const { contacts, next } of allContacts(client, { after })) {
        for (const c of contacts) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
        after = next;
        onPage?.(++page);
      }
      return Object.assign(seen, { resumes });
    } catch (error) {
      if (!(error instanceof SyncError && error.retryable) || ++resumes > 5) throw error;
    }
  }
}

function expectEachOnce(seen: Map<string, number>, n: number) {
  expect(seen.size).toBe(n);
  expect([...seen.values()].every((count) => count === 1)).toBe(true);
}

async function collect(pages: AsyncGenerator<HubSpotContact[]>) {
  const seen = new Map<string, number>();
  for await (const page of pages) for (const c of page) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
  return seen;
}

describe("HubSpot client: full sync by paging", () => {
  it("visits each of 20,000 contacts exactly once, within the portal's budget", async () => {
    const { standIn, client } = await setup();
    standIn.portal.generate(20_000, { seed: 11 });
    const seen = await fullSync(client);
    expectEachOnce(seen, 20_000);
    expect(standIn.stats().byRoute["GET /crm/v3/objects/contacts"]).toBe(200);
    expect(standIn.stats().throttled).toBe(0);
    expect(standIn.stats().maxInGeneralWindow).toBeLessThanOrEqual(100);
  });

  it("an interrupted full sync resumed from its saved cursor by a new client reads each contact once", async () => {
    const { standIn, client, clock, app, store } = await setup();
    standIn.portal.generate(2_000, { seed: 10 });
    const seen = new Map<string, number>();
    let cursor: string | undefined;
    let pages = 0;
    for await (const { contacts, next } of allContacts(client)) {
      for (const c of contacts) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
      cursor = next; // what a sync session stores after each page
      if (++pages === 7) break; // the worker is evicted here
    }
    expect(cursor).toBeDefined();
    const deps = { fetch, clock, baseUrl: standIn.url };
    const again = hubspotClient({
      ...deps,
      tokens: oauthSession(deps, app, store),
      budget: memoryRateBudget(clock, { general: bucketFor(100, 10_000), search: bucketFor(5, 1_000) }),
    });
    for await (const { contacts } of allContacts(again, { after: cursor })) {
      for (const c of contacts) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
    }
    expectEachOnce(seen, 2_000);
  });

  it("the budget is what keeps it under: a bucket that ignores the rolling window goes over", async () => {
    // The guard for the test above: a naive bucket (100 burst + 100 per 10 s) is measured above 100.
    const { standIn, client } = await setup({
      buckets: { general: { capacity: 100, refillPerMs: 0.01 }, search: bucketFor(5, 1000) },
    });
    standIn.portal.generate(30_000, { seed: 1 });
    const seen = await fullSync(client);
    expectEachOnce(seen, 30_000);
    expect(standIn.stats().maxInGeneralWindow).toBeGreaterThan(100);
  });

  it("refreshes before expiry without a 401, and after an early expiry mid-paging refreshes once and goes on", async () => {
    const { standIn, client, clock, store } = await setup({ tokenLifetimeSeconds: 1800 });
    standIn.portal.generate(1_000, { seed: 2 });
    const seen = await fullSync(client, (page) => {
      if (page === 3) clock.advance(26 * 60_000); // inside the 5-minute margin: a proactive refresh
      if (page === 6) standIn.oauth.expireAll(); // HubSpot says expired before we expected it
    });
    expectEachOnce(seen, 1_000);
    expect(store.saves).toBe(2);
    expect(standIn.stats().byStatus[401]).toBe(1);
    expect(standIn.stats().byRoute["POST /oauth/v1/token"]).toBe(2);
  });

  it("a refresh HubSpot refuses is HUBSPOT_AUTH_FAILED, not retryable", async () => {
    const { standIn, client } = await setup();
    standIn.portal.generate(10);
    standIn.oauth.revokeRefreshTokens();
    standIn.oauth.expireAll();
    const error = await client.listContacts().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ code: "HUBSPOT_AUTH_FAILED", retryable: false });
  });

  it("a 429 storm slows it without losing or duplicating a contact, and the budget still holds", async () => {
    const { standIn, client, clock } = await setup();
    standIn.portal.generate(5_000, { seed: 4 });
    const start = clock.now();
    const seen = await fullSync(client, (page) => {
      if (page === 10) standIn.faults.rateLimitStorm = 20;
    });
    expectEachOnce(seen, 5_000);
    // 20 refusals outlast a request's 8 attempts twice (8 + 8 + 4): each time it fails retryably and
    // the sync resumes from its cursor.
    expect(seen.resumes).toBe(2);
    const stats = standIn.stats();
    expect(stats.throttled).toBe(20);
    expect(stats.byRoute["GET /crm/v3/objects/contacts"]).toBe(50 + 20);
    expect(stats.maxInGeneralWindow).toBeLessThanOrEqual(100);
    // Each 429 carried Retry-After: 1 and was honoured: 7 + 7 + 4 waits of a second (fake clock time).
    expect(clock.now() - start).toBeGreaterThanOrEqual(18_000);
  });

  it("rides out 5xx answers, connection resets and slow answers", async () => {
    const { standIn, client } = await setup({ seed: 5 });
    standIn.portal.generate(3_000, { seed: 5 });
    standIn.faults.serverErrorRate = 0.3;
    standIn.faults.resetConnections = 3;
    standIn.faults.slowMs = 5;
    const seen = await fullSync(client);
    expectEachOnce(seen, 3_000);
    expect(standIn.stats().byStatus[503]).toBeGreaterThan(0);
  });

  it("gives up with a retryable HUBSPOT_UNAVAILABLE when HubSpot stays down", async () => {
    const { standIn, client } = await setup();
    standIn.faults.serverErrorRate = 1;
    const error = await client.listContacts().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "HUBSPOT_UNAVAILABLE", retryable: true });
    expect(standIn.stats().byStatus[503]).toBe(8);
  });
});

describe("HubSpot client: incremental sync by search", () => {
  it("reads all of a window holding more than 10,000 changes, each once", async () => {
    const { standIn, client, clock } = await setup();
    standIn.portal.generate(12_000, { seed: 6, spreadMs: 3_600_000 });
    const { fromMs, toMs } = incrementalWindow(clock.now() - 3_600_000, clock.now());
    const seen = await collect(contactsModifiedBetween(client, fromMs, toMs));
    expectEachOnce(seen, 12_000);
    expect(standIn.stats().maxInSearchWindow).toBeLessThanOrEqual(5);
    // HubSpot's own paging stops at 10,000 of the 12,000 (what the narrowing gets around).
    const first = await client.searchModifiedBetween(fromMs, toMs);
    expect(first.total).toBe(12_000);
  });

  it("does not lose a contact when one already read is modified during the scan", async () => {
    const { standIn, client, clock } = await setup();
    standIn.portal.generate(1_000, { seed: 8, spreadMs: 600_000 });
    const toMs = clock.now();
    const seen = new Map<string, number>();
    let pages = 0;
    for await (const page of contactsModifiedBetween(client, toMs - 600_000, toMs)) {
      for (const c of page) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
      // The first contacts read move out of the window (their new time is after toMs).
      if (++pages === 1) for (const c of page.slice(0, 20)) standIn.portal.update(c.id, { phone: "changed" }, toMs + 1);
    }
    expectEachOnce(seen, 1_000);
  });

  it("reads a bulk import whose contacts share one millisecond", async () => {
    const { standIn, client, clock } = await setup();
    standIn.portal.generate(450, { seed: 12, spreadMs: 0 });
    standIn.portal.generate(30, { seed: 13, spreadMs: 1000 });
    const seen = await collect(contactsModifiedBetween(client, clock.now() - 1000, clock.now()));
    expectEachOnce(seen, 480);
  });

  it("picks up a second change in the same millisecond as the high-water mark thanks to the overlap", async () => {
    const { standIn, client, clock } = await setup();
    standIn.portal.generate(50, { seed: 14, spreadMs: 60_000 });
    const a = standIn.portal.create({ email: "a@example.com" });
    const b = standIn.portal.create({ email: "b@example.com" });
    clock.advance(60_000);
    const t = clock.now();
    standIn.portal.update(a.id, { firstname: "A" }, t);
    const first = await collect(contactsModifiedBetween(client, t - 60_000, t));
    expect(first.has(String(a.id))).toBe(true);
    const highWater = t;
    standIn.portal.update(b.id, { firstname: "B" }, t); // committed in the same millisecond, after the run read
    clock.advance(30_000);
    const next = incrementalWindow(highWater, clock.now());
    const second = await collect(contactsModifiedBetween(client, next.fromMs, next.toMs));
    expect(second.has(String(b.id))).toBe(true);
    // Without the overlap (strictly after the mark) the change is lost: what the overlap is for.
    const strict = await collect(contactsModifiedBetween(client, highWater + 1, clock.now()));
    expect(strict.has(String(b.id))).toBe(false);
  });

  it("finds archived contacts through the list endpoint (search never returns them)", async () => {
    const { standIn, client, clock } = await setup();
    standIn.portal.generate(20, { seed: 15, spreadMs: 1000 });
    standIn.portal.archive(7, clock.now());
    const searched = await collect(contactsModifiedBetween(client, clock.now() - 1000, clock.now()));
    expect(searched.has("7")).toBe(false);
    const archived = [];
    for await (const { contacts } of allContacts(client, { archived: true })) archived.push(...contacts);
    expect(archived.map((c) => [c.id, c.archived])).toEqual([["7", true]]);
  });
});

describe("HubSpot client: batch read and OAuth", () => {
  it("reads any number of ids in chunks of 100 and names the missing ones", async () => {
    const { standIn, client } = await setup();
    standIn.portal.generate(300, { seed: 16 });
    standIn.portal.archive(42);
    const ids = [...Array.from({ length: 250 }, (_, i) => String(i + 1)), "999999", "1"];
    const { results, missing } = await client.batchRead(ids);
    expect(results).toHaveLength(249);
    expect(missing.sort()).toEqual(["42", "999999"]);
    expect(standIn.stats().byRoute["POST /crm/v3/objects/contacts/batch/read"]).toBe(3);
  });

  it("exchanges the authorization code from HubSpot's redirect for tokens that work", async () => {
    const { standIn, clock, app } = await setup();
    const link = authorizationUrl(app, ["crm.objects.contacts.read"], "xyz", `${standIn.url}/oauth/authorize`);
    const redirect = await fetch(link, { redirect: "manual" });
    expect(new URL(redirect.headers.get("location")!).searchParams.get("state")).toBe("xyz");
    const code = new URL(redirect.headers.get("location")!).searchParams.get("code")!;
    const tokens = await exchangeCode({ fetch, clock, baseUrl: standIn.url }, app, code);
    expect(tokens.expiresAt).toBe(clock.now() + 1800 * 1000);
    expect(standIn.oauth.lookup(tokens.accessToken)).toBeDefined();
    const reuse = await exchangeCode({ fetch, clock, baseUrl: standIn.url }, app, code).catch((e: unknown) => e);
    expect(reuse).toMatchObject({ code: "HUBSPOT_AUTH_FAILED", retryable: false });
  });
});

describe("HubSpot webhooks: v3 signatures over HTTP", () => {
  it("accepts the stand-in's signed batch and refuses bad, stale and missing signatures", async () => {
    const clock = fakeClock();
    standIn = await startHubSpotStandIn({ clock, clientSecret: "app-secret" });
    const accepted: unknown[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        const header = (name: string) => (req.headers[name.toLowerCase()] as string | undefined) ?? null;
        verifySignatureV3(
          "app-secret",
          {
            method: req.method!,
            uri: `${uri}`,
            body,
            signature: header("X-HubSpot-Signature-v3"),
            timestamp: header("X-HubSpot-Request-Timestamp"),
          },
          clock.now(),
        ).then(
          () => {
            accepted.push(JSON.parse(body));
            res.writeHead(204).end();
          },
          (error: SyncError) => res.writeHead(error.status, { "content-type": "text/plain" }).end(error.code),
        );
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const uri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/hubspot`;
    try {
      const c = standIn.portal.create({ email: "w@example.com" });
      standIn.portal.update(c.id, { lastname: "W" });
      const events = standIn.portal.drainEvents();
      const answer = async (
        tamper?: Parameters<HubSpotStandIn["deliverWebhooks"]>[1] extends infer O
          ? O extends { tamper?: infer T }
            ? T
            : never
          : never,
      ) => {
        const res = await standIn!.deliverWebhooks(uri, { events, tamper });
        return `${res.status} ${await res.text()}`;
      };
      expect(await answer()).toBe("204 ");
      expect(await answer({ body: JSON.stringify(events).replace("W", "X") })).toBe("401 HUBSPOT_SIGNATURE_INVALID");
      expect(await answer({ signature: "bm90IGEgc2lnbmF0dXJl" })).toBe("401 HUBSPOT_SIGNATURE_INVALID");
      expect(await answer({ signature: "%%%" })).toBe("401 HUBSPOT_SIGNATURE_INVALID");
      expect(await answer({ timestampMs: clock.now() - 5 * 60_000 - 1 })).toBe("401 HUBSPOT_SIGNATURE_STALE");
      expect(await answer({ timestampMs: clock.now() + 5 * 60_000 + 1 })).toBe("401 HUBSPOT_SIGNATURE_STALE");
      expect(await answer({ omitSignature: true })).toBe("401 HUBSPOT_SIGNATURE_MISSING");
      expect(await answer({ timestampMs: clock.now() - 5 * 60_000 })).toBe("204 "); // 5 minutes old is still in time
      const otherApp = await sendWebhook({ url: uri, events, clientSecret: "another-secret", nowMs: clock.now() });
      expect(`${otherApp.status} ${await otherApp.text()}`).toBe("401 HUBSPOT_SIGNATURE_INVALID");
      expect(accepted).toHaveLength(2);
    } finally {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });
});

describe("HubSpot webhooks: from a signed batch to the contacts' current state", () => {
  it("verifies, parses, and batch-reads what the events name: live, archived (tombstones) and unknown", async () => {
    const { standIn, client, clock } = await setup();
    standIn.portal.generate(5, { seed: 17 });
    const created = standIn.portal.create({ email: "new@example.com" });
    standIn.portal.update(2, { firstname: "Renamed" });
    standIn.portal.update(2, { lastname: "Twice" });
    standIn.portal.archive(3);
    const events = standIn.portal.drainEvents();
    events.push({ ...events[0]!, eventId: 100, objectId: 424242, subscriptionType: "contact.propertyChange" });
    events.push({ ...events[0]!, eventId: 101, objectId: 1, subscriptionType: "company.creation" });
    let outcome: Awaited<ReturnType<typeof contactsOfEvents>> | undefined;
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", async () => {
        const header = (name: string) => (req.headers[name] as string | undefined) ?? null;
        await verifySignatureV3(
          standIn.clientSecret,
          {
            method: "POST",
            uri,
            body,
            signature: header("x-hubspot-signature-v3"),
            timestamp: header("x-hubspot-request-timestamp"),
          },
          clock.now(),
        );
        outcome = await contactsOfEvents(client, hubspotWebhookBatchSchema.parse(JSON.parse(body)));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const uri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/hubspot`;
    try {
      expect((await standIn.deliverWebhooks(uri, { events })).status).toBe(204);
      const byId = new Map(outcome!.contacts.map((c) => [c.id, c]));
      expect([...byId.keys()].sort()).toEqual(["2", "3", String(created.id)].sort());
      expect(byId.get("2")!.properties).toMatchObject({ firstname: "Renamed", lastname: "Twice" });
      expect(byId.get("3")).toMatchObject({ archived: true });
      expect(byId.get("3")!.archivedAt).toBeDefined();
      expect(outcome!.unknown).toEqual(["424242"]);
      // Two batch reads: the live one, then the archived one for the ids it missed.
      expect(standIn.stats().byRoute["POST /crm/v3/objects/contacts/batch/read"]).toBe(2);
    } finally {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });
});
