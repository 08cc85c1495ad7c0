import type { HubSpotContact } from "../../../producers/hubspot/contact";
import { seededRandom } from "../seeded-random";

/**
 * The stand-in's HubSpot portal: contacts in memory, with HubSpot's CRM v3 list / search / batch
 * read semantics and the webhook events each change would make HubSpot send.
 */
export interface StoredContact {
  id: number;
  props: Record<string, string | null>;
  createdMs: number;
  updatedMs: number;
  archivedMs?: number;
}

export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  occurredAt: number;
  /** What this portal makes: contact.creation / propertyChange / deletion (a test may send others). */
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  propertyName?: string;
  propertyValue?: string;
}

/** A HubSpot-shaped 4xx the routes answer with (`category` as HubSpot names it). */
export class PortalError extends Error {
  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
  ) {
    super(message);
  }
}

/** Returned on every read whatever `properties` asks for (HubSpot does the same). */
const ALWAYS = ["hs_object_id", "createdate", "lastmodifieddate"];
/** Returned when `properties` is not given (HubSpot's defaults for contacts). */
const DEFAULTS = ["firstname", "lastname", "email"];
const SUBSCRIPTIONS = { "contact.creation": 101, "contact.propertyChange": 102, "contact.deletion": 103 } as const;
export const LIST_LIMIT = 100;
export const SEARCH_LIMIT = 200;
export const SEARCH_CEILING = 10_000;
export const BATCH_LIMIT = 100;

export class Portal {
  private readonly contacts = new Map<number, StoredContact>();
  /** Ids in ascending order: ids are handed out increasing, so appending keeps it sorted. */
  private readonly order: number[] = [];
  private nextId = 1;
  private nextEventId = 1;
  private pending: WebhookEvent[] = [];

  constructor(
    readonly portalId: number,
    private readonly clock: { now(): number },
  ) {}

  get size(): number {
    return this.contacts.size;
  }

  create(props: Record<string, string | null>, atMs = this.clock.now()): StoredContact {
    const contact: StoredContact = { id: this.nextId++, props: { ...props }, createdMs: atMs, updatedMs: atMs };
    this.contacts.set(contact.id, contact);
    this.order.push(contact.id);
    this.event("contact.creation", contact.id, atMs);
    return contact;
  }

  /** Changes properties; `atMs` lets a test put two changes in one millisecond. */
  update(id: number | string, props: Record<string, string | null>, atMs = this.clock.now()): StoredContact {
    const contact = this.live(id);
    Object.assign(contact.props, props);
    contact.updatedMs = atMs;
    for (const [name, value] of Object.entries(props)) {
      this.event("contact.propertyChange", contact.id, atMs, { propertyName: name, propertyValue: value ?? "" });
    }
    return contact;
  }

  archive(id: number | string, atMs = this.clock.now()): StoredContact {
    const contact = this.live(id);
    contact.archivedMs = atMs;
    contact.updatedMs = atMs;
    this.event("contact.deletion", contact.id, atMs);
    return contact;
  }

  /**
   * `n` contacts from a seeded generator (the same seed gives the same portal). Their modification
   * times spread over `spreadMs` before now, or all share now with `spreadMs: 0` (a bulk import).
   * Generated contacts make no webhook events: they are the portal as it was before we connected.
   */
  generate(n: number, opts: { seed?: number; spreadMs?: number } = {}): void {
    const random = seededRandom(opts.seed ?? 1);
    const now = this.clock.now();
    const spread = opts.spreadMs ?? 30 * 24 * 3600 * 1000;
    for (let i = 0; i < n; i++) {
      const id = this.nextId++;
      const updatedMs = now - Math.floor(random() * spread);
      const first = FIRST[Math.floor(random() * FIRST.length)]!;
      const last = LAST[Math.floor(random() * LAST.length)]!;
      const contact: StoredContact = {
        id,
        createdMs: updatedMs - Math.floor(random() * 1000),
        updatedMs,
        props: {
          email: `${first}.${last}.${id}@example.com`.toLowerCase(),
          firstname: first,
          lastname: last,
          phone: random() < 0.5 ? null : `+1555${String(id).padStart(7, "0")}`,
          company: random() < 0.3 ? null : `${last} & Co`,
        },
      };
      this.contacts.set(id, contact);
      this.order.push(id);
    }
  }

  /** GET /crm/v3/objects/contacts: id order, `after` is the next id, archived ones only with `archived`. */
  list(opts: { after?: string; limit: number; archived: boolean; properties?: string[] }) {
    if (!(opts.limit >= 1 && opts.limit <= LIST_LIMIT)) {
      throw new PortalError(400, "VALIDATION_ERROR", `limit must be between 1 and ${LIST_LIMIT}`);
    }
    const start = lowerBound(this.order, opts.after ? Number(opts.after) : 0);
    const results: HubSpotContact[] = [];
    let i = start;
    for (; i < this.order.length && results.length < opts.limit; i++) {
      const c = this.contacts.get(this.order[i]!)!;
      if ((c.archivedMs !== undefined) === opts.archived) results.push(this.render(c, opts.properties));
    }
    while (i < this.order.length && (this.contacts.get(this.order[i]!)!.archivedMs !== undefined) !== opts.archived)
      i++;
    const next = i < this.order.length ? String(this.order[i]) : undefined;
    return { results, ...(next ? { paging: { next: { after: next, link: `?after=${next}` } } } : {}) };
  }

  /**
   * POST /crm/v3/objects/contacts/search: filters ANDed within a group, groups ORed; one sort
   * (ties by id); `after` is an offset that may not reach past 10,000; archived contacts never match.
   */
  search(body: SearchBody) {
    const limit = body.limit ?? 10;
    if (!(limit >= 1 && limit <= SEARCH_LIMIT)) {
      throw new PortalError(400, "VALIDATION_ERROR", `limit must be between 1 and ${SEARCH_LIMIT}`);
    }
    const offset = body.after ? Number(body.after) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new PortalError(400, "VALIDATION_ERROR", "after is not valid");
    if (offset + limit > SEARCH_CEILING) {
      throw new PortalError(
        400,
        "VALIDATION_ERROR",
        `paging is limited to ${SEARCH_CEILING} results: narrow the search`,
      );
    }
    const groups = body.filterGroups ?? [];
    const matches = [...this.contacts.values()].filter(
      (c) =>
        c.archivedMs === undefined &&
        (groups.length === 0 || groups.some((g) => g.filters.every((f) => matchesFilter(c, f)))),
    );
    const sort = body.sorts?.[0];
    const sign = sort?.direction === "DESCENDING" ? -1 : 1;
    matches.sort(
      (a, b) => (sort ? sign * compare(value(a, sort.propertyName), value(b, sort.propertyName)) : 0) || a.id - b.id,
    );
    const results = matches.slice(offset, offset + limit).map((c) => this.render(c, body.properties));
    const reachable = Math.min(matches.length, SEARCH_CEILING);
    const next = offset + limit < reachable ? String(offset + limit) : undefined;
    return { total: matches.length, results, ...(next ? { paging: { next: { after: next } } } : {}) };
  }

  /** POST /crm/v3/objects/contacts/batch/read: up to 100 ids; unknown ones are reported as errors (207). */
  batchRead(ids: string[], archived: boolean, properties?: string[]) {
    if (ids.length > BATCH_LIMIT) {
      throw new PortalError(400, "VALIDATION_ERROR", `at most ${BATCH_LIMIT} inputs per batch read`);
    }
    const results: HubSpotContact[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const c = this.contacts.get(Number(id));
      if (c && (c.archivedMs !== undefined) === archived) results.push(this.render(c, properties));
      else missing.push(id);
    }
    return { results, missing };
  }

  /** The webhook events made since the last call (what HubSpot would deliver next). */
  drainEvents(): WebhookEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  get(id: number | string): StoredContact | undefined {
    return this.contacts.get(Number(id));
  }

  render(c: StoredContact, properties?: string[]): HubSpotContact {
    const wanted = [...new Set([...(properties?.length ? properties : DEFAULTS), ...ALWAYS])];
    return {
      id: String(c.id),
      properties: Object.fromEntries(wanted.map((name) => [name, propertyText(c, name)])),
      createdAt: new Date(c.createdMs).toISOString(),
      updatedAt: new Date(c.updatedMs).toISOString(),
      archived: c.archivedMs !== undefined,
      ...(c.archivedMs !== undefined ? { archivedAt: new Date(c.archivedMs).toISOString() } : {}),
    };
  }

  private live(id: number | string): StoredContact {
    const contact = this.contacts.get(Number(id));
    if (!contact || contact.archivedMs !== undefined) throw new Error(`no live contact ${id}`);
    return contact;
  }

  private event(type: keyof typeof SUBSCRIPTIONS, objectId: number, atMs: number, extra: Partial<WebhookEvent> = {}) {
    this.pending.push({
      eventId: this.nextEventId++,
      subscriptionId: SUBSCRIPTIONS[type],
      portalId: this.portalId,
      occurredAt: atMs,
      subscriptionType: type,
      attemptNumber: 0,
      objectId,
      changeSource: "CRM",
      ...extra,
    });
  }
}

export interface SearchFilter {
  propertyName: string;
  operator: string;
  value?: string;
  highValue?: string;
}

export interface SearchBody {
  filterGroups?: Array<{ filters: SearchFilter[] }>;
  sorts?: Array<{ propertyName: string; direction?: "ASCENDING" | "DESCENDING" }>;
  properties?: string[];
  limit?: number;
  after?: string;
}

const DATE_PROPERTIES = new Set(["createdate", "lastmodifieddate"]);

function propertyText(c: StoredContact, name: string): string | null {
  if (name === "hs_object_id") return String(c.id);
  if (name === "createdate") return new Date(c.createdMs).toISOString();
  if (name === "lastmodifieddate") return new Date(c.updatedMs).toISOString();
  return c.props[name] ?? null;
}

/** A property as the search compares it: dates and ids as numbers, the rest as text. */
function value(c: StoredContact, name: string): number | string | null {
  if (name === "hs_object_id") return c.id;
  if (name === "createdate") return c.createdMs;
  if (name === "lastmodifieddate") return c.updatedMs;
  return c.props[name] ?? null;
}

/** A filter value: dates may be given as epoch milliseconds or ISO 8601 (HubSpot accepts both). */
function filterValue(name: string, text: string | undefined): number | string | null {
  if (text === undefined) return null;
  if (DATE_PROPERTIES.has(name)) return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (name === "hs_object_id") return Number(text);
  return text;
}

function matchesFilter(c: StoredContact, f: SearchFilter): boolean {
  const have = value(c, f.propertyName);
  const want = filterValue(f.propertyName, f.value);
  switch (f.operator) {
    case "EQ":
      return have === want;
    case "NEQ":
      return have !== want;
    case "GT":
      return have !== null && want !== null && compare(have, want) > 0;
    case "GTE":
      return have !== null && want !== null && compare(have, want) >= 0;
    case "LT":
      return have !== null && want !== null && compare(have, want) < 0;
    case "LTE":
      return have !== null && want !== null && compare(have, want) <= 0;
    case "BETWEEN": {
      const high = filterValue(f.propertyName, f.highValue);
      return have !== null && want !== null && high !== null && compare(have, want) >= 0 && compare(have, high) <= 0;
    }
    case "HAS_PROPERTY":
      return have !== null;
    case "NOT_HAS_PROPERTY":
      return have === null;
    default:
      throw new PortalError(400, "VALIDATION_ERROR", `operator ${f.operator} is not supported by the stand-in`);
  }
}

function compare(a: number | string | null, b: number | string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/** The first index whose id is >= `id`. */
function lowerBound(sorted: number[], id: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"];
const LAST = [
  "Lovelace",
  "Hopper",
  "Turing",
  "Dijkstra",
  "Liskov",
  "Knuth",
  "Allen",
  "Thompson",
  "Perlman",
  "Berners-Lee",
];
