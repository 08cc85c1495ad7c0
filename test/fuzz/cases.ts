import fc from "fast-check";
import type { z } from "zod";
import { recordSendSchema, changeStatusSchema } from "../../schemas/email-api";
import {
  cancelJobBody,
  createJobBody,
  createPlanBody,
  groupActionBody,
  listAuditQuery,
  listGroupsQuery,
  listJobsQuery,
  listTasksQuery,
  replayTaskBody,
} from "../../schemas/operator-api";
import { ENTITIES } from "../../schemas/registry";
import { deepNesting, hugeString, oddKey, oddString, oddTimestamp, oddValue, RawJson } from "./odd-values";
import { applyMutations, fieldSpecs, mutations, validObject, type FieldSpec, type Mutation } from "./zod-fields";

/**
 * One generated HTTP request, as plain data: printable, replayable, shrinkable. References to
 * things that exist only at run time (an email the run created, a failed task) are pool indexes,
 * resolved when the case is sent.
 */
export type Target = "webhook" | "email" | "admin";
export const TARGETS: Target[] = ["webhook", "email", "admin"];

export type Auth =
  "right" | "wrong" | "missing" | "lowercase-scheme" | "extra-spaces" | "basic" | "empty-token" | "other-secret";
export type Pool = "email" | "task" | "group" | "plan" | "job";

export type Body =
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: string }
  | { kind: "bytes"; bytes: number[] }
  /** Sent as a stream: chunked, no Content-Length (the size limit must hold on the bytes received). */
  | { kind: "chunked"; text: string }
  | { kind: "none" };

export interface Case {
  target: Target;
  method: string;
  /** Path with `{ref}` where a pool item's id goes; may carry a raw query string. */
  path: string;
  ref?: { pool: Pool; index: number; raw?: string };
  auth: Auth;
  /** x-operator header: undefined = not sent. Latin-1 only (fetch refuses other header bytes). */
  operator?: string;
  contentType?: string;
  body: Body;
  /** PATCH /v1/emails: send the email's current version (or this many versions off). */
  versionDelta?: number;
  /** An x-request-id of the caller's own instead of the run's `fz-<index>` (echoed only if well-formed). */
  requestId?: string;
}

/** What the generators need from the running stack: the prospects seeded into Postgres. */
export interface CaseContext {
  prospectIds: string[];
}

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { arbitrary: fc.constant<Auth>("right"), weight: 30 },
  {
    arbitrary: fc.constantFrom<Auth>(
      "wrong",
      "missing",
      "lowercase-scheme",
      "extra-spaces",
      "basic",
      "empty-token",
      "other-secret",
    ),
    weight: 3,
  },
);

/** Bodies no JSON serialiser would write. */
const rawBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom<Body>(
      { kind: "none" },
      { kind: "text", text: "" },
      { kind: "text", text: "{" },
      { kind: "text", text: "[]" },
      { kind: "text", text: "null" },
      { kind: "text", text: '"string"' },
      { kind: "text", text: "0" },
      { kind: "text", text: "\ufeff{}" },
      { kind: "text", text: '{"a":1}garbage' },
      { kind: "text", text: '{"type":"INSERT","type":"DELETE"}' },
      { kind: "text", text: "NaN" },
      { kind: "text", text: `${" ".repeat(300_000)}{}` },
      { kind: "text", text: '{"__proto__":{"polluted":true}}' },
      { kind: "bytes", bytes: [0xff, 0xfe, 0x7b, 0x7d] },
      { kind: "bytes", bytes: [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d] },
      { kind: "bytes", bytes: [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d] },
    ),
  },
  { weight: 4, arbitrary: oddValue.map((value): Body => ({ kind: "json", value })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Body>(
      { kind: "chunked", text: "{}" },
      { kind: "chunked", text: `{"s":"${"a".repeat(600_000)}"}` },
      { kind: "chunked", text: "" },
    ),
  },
  { weight: 1, arbitrary: deepNesting.map((value): Body => ({ kind: "json", value })) },
  { weight: 1, arbitrary: hugeString.map((s): Body => ({ kind: "json", value: { s } })) },
);

/** `arb` once in `oneIn` cases, undefined otherwise (fc.option's freq is the odds of nil, the other way round). */
function rarely<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: oneIn - 1 }, { arbitrary: arb, weight: 1 });
}

const contentType = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 12 },
  {
    arbitrary: fc.constantFrom<string | undefined>(
      undefined,
      "text/plain",
      "application/json; charset=latin1",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
    ),
    weight: 1,
  },
);

/** Encodes every UTF-16 unit, lone surrogates too (as their 3-byte WTF-8 form: invalid UTF-8 on the wire). */
export function percentEncode(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    if (/[A-Za-z0-9\-_.~]/.test(String.fromCodePoint(cp))) {
      out += String.fromCodePoint(cp);
      continue;
    }
    const bytes =
      cp < 0x80
        ? [cp]
        : cp < 0x800
          ? [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
          : cp < 0x10000
            ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
            : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
    out += bytes.map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
  }
  return out;
}

/** A path segment that is not an id: odd unicode, traversal, broken percent-encoding. */
const oddSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "%",
    "%ZZ",
    "%E0%A4%A",
    "%00",
    "..",
    "%2e%2e",
    "a%2Fb",
    "%ED%A0%80",
    "x".repeat(5000),
    "0",
    "-1",
    "null",
    "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "0123456789abcdef",
    "0b6f7a51-2a3c-4b5d-8e9f-0a1b2c3d4e5f",
  ),
  oddString.map(percentEncode),
  fc.uuid(),
);

const LATIN1_OPERATORS = [
  "",
  " ",
  "alice bob",
  "a".repeat(101),
  "\u00e5lice",
  "alice\t",
  "<script>",
  "alice@host",
  "ops:1",
  "-",
  "\u00ff\u00fe",
];
const operator: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: fc.constantFrom("alice", "fuzz@ci", "bob.o+ops"), weight: 10 },
  { arbitrary: fc.constantFrom<string | undefined>(undefined, ...LATIN1_OPERATORS), weight: 2 },
);

/* ---------------------------------------------------------------- webhooks */

const rowSpecs = new Map(ENTITIES.map((e) => [e.name, fieldSpecs(e.row.shape as Record<string, z.ZodType>)]));

export function webhookCase(): fc.Arbitrary<Case> {
  const envelope = fc.constantFrom(...ENTITIES).chain((entity) => {
    const specs = rowSpecs.get(entity.name)!;
    return fc
      .record({
        type: fc.oneof(
          { arbitrary: fc.constantFrom("INSERT", "UPDATE", "DELETE"), weight: 12 },
          { arbitrary: fc.constantFrom<unknown>("insert", "TRUNCATE", "", null, 1), weight: 1 },
        ),
        table: fc.oneof(
          { arbitrary: fc.constant(entity.table), weight: 12 },
          {
            arbitrary: fc.constantFrom("Prospects", "prospects ", "failed_tasks", "sync_outbox", "", "emails"),
            weight: 1,
          },
          { arbitrary: oddString, weight: 1 },
        ),
        schema: fc.oneof(
          { arbitrary: fc.constant("public"), weight: 12 },
          { arbitrary: fc.constantFrom("auth", "Public", "", "public\u0000"), weight: 1 },
        ),
        row: validObject(specs),
        rowMutations: mutations(specs, oddKey),
        // Mostly a well-formed envelope, so that the row inside is what gets tested.
        envelopeMutations: fc.oneof(
          { arbitrary: fc.constant<Mutation[]>([]), weight: 3 },
          { arbitrary: mutations(ENVELOPE_SPECS, oddKey, 2), weight: 1 },
        ),
        oldRecordFromRow: fc.boolean(),
      })
      .map(({ type, table, schema, row, rowMutations, envelopeMutations, oldRecordFromRow }) => {
        const record = applyMutations(row, rowMutations);
        const isDelete = type === "DELETE";
        const old = oldRecordFromRow ? record : { id: record.id, version: record.version };
        const payload = applyMutations(
          {
            type,
            table,
            schema,
            record: isDelete ? null : record,
            old_record: isDelete || type === "UPDATE" ? old : null,
          },
          envelopeMutations,
        );
        return payload;
      });
  });
  return fc
    .record({
      body: fc.oneof(
        { arbitrary: envelope.map((value): Body => ({ kind: "json", value })), weight: 14 },
        { arbitrary: rawBody, weight: 1 },
      ),
      auth,
      contentType,
    })
    .map(({ body, auth, contentType }): Case => ({
      target: "webhook",
      method: "POST",
      path: "/webhooks/supabase",
      auth,
      contentType,
      body,
    }));
}

const ENVELOPE_SPECS: FieldSpec[] = ["type", "table", "schema", "record", "old_record"].map((name) => ({
  name,
  kind: "unknown",
  nullable: false,
  optional: false,
  options: [],
  min: 0,
  max: 0,
  minLength: 0,
}));

/* ---------------------------------------------------------------- email API */

const sendSpecs = fieldSpecs(recordSendSchema.shape as Record<string, z.ZodType>);
const statusSpecs = fieldSpecs(changeStatusSchema.shape as Record<string, z.ZodType>);

/** A send the API should accept: the status has its timestamp (seed 000: no `sent` without sent_at). */
function validSend(ctx: CaseContext): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      base: validObject(sendSpecs),
      prospect: fc.oneof(
        { arbitrary: fc.constantFrom(...ctx.prospectIds), weight: 8 },
        { arbitrary: fc.uuid(), weight: 1 },
      ),
      at: oddTimestamp.filter((t) => typeof t === "string"),
      useOddAt: fc.boolean(),
      // Within the character limits but not the byte limits: up to 100,000 characters of 1 to
      // 4 bytes each against the 120 KiB queue message and the 256 KiB request body.
      bigBody: rarely(
        fc.record({
          unit: fc.constantFrom("a", "é", "€", "😀"),
          count: fc.constantFrom(30_000, 45_000, 60_000, 100_000),
        }),
        15,
      ),
    })
    .map(({ base, prospect, at, useOddAt, bigBody }) => {
      const send: Record<string, unknown> = { ...base, prospect_id: prospect };
      if (bigBody) send.body = bigBody.unit.repeat(bigBody.unit.length === 2 ? bigBody.count / 2 : bigBody.count);
      const status = (send.status as string | undefined) ?? "sent";
      // Stamp the status's timestamp; half the time with an odd-but-maybe-accepted timestamp.
      if (status === "sent" && send.sent_at == null) send.sent_at = useOddAt ? at : "2025-03-01T09:00:00Z";
      if (status === "failed" && send.failed_at == null) send.failed_at = useOddAt ? at : "2025-03-01T09:00:00+01:00";
      // message_id is unique: a generated one collides rarely, and then the API answers 409.
      return send;
    });
}

export function emailCase(ctx: CaseContext): fc.Arbitrary<Case> {
  const post = fc
    .record({ send: validSend(ctx), muts: mutations(sendSpecs, oddKey), raw: rarely(rawBody, 15) })
    .map(({ send, muts, raw }): Pick<Case, "method" | "path" | "body"> => ({
      method: "POST",
      path: "/v1/emails",
      body: raw ?? { kind: "json", value: applyMutations(send, muts) },
    }));
  const patch = fc
    .record({
      status: validObject(statusSpecs),
      muts: mutations(statusSpecs, oddKey),
      index: fc.nat(),
      odd: rarely(oddSegment, 6),
      versionDelta: fc.oneof(
        { arbitrary: fc.constant(0), weight: 4 },
        { arbitrary: fc.integer({ min: -2, max: 2 }), weight: 1 },
      ),
      raw: rarely(rawBody, 15),
    })
    .map(
      ({
        status,
        muts,
        index,
        odd,
        versionDelta,
        raw,
      }): Pick<Case, "method" | "path" | "body" | "ref" | "versionDelta"> => ({
        method: "PATCH",
        path: "/v1/emails/{ref}",
        ref: { pool: "email", index, ...(odd !== undefined ? { raw: odd } : {}) },
        versionDelta,
        body: raw ?? { kind: "json", value: applyMutations({ ...status, at: status.at ?? undefined }, muts) },
      }),
    );
  const get = fc
    .record({ index: fc.nat(), odd: rarely(oddSegment, 2) })
    .map(({ index, odd }): Pick<Case, "method" | "path" | "body" | "ref"> => ({
      method: "GET",
      path: "/v1/emails/{ref}",
      ref: { pool: "email", index, ...(odd !== undefined ? { raw: odd } : {}) },
      body: { kind: "none" },
    }));
  const other = fc.constantFrom<Pick<Case, "method" | "path" | "body">>(
    { method: "PUT", path: "/v1/emails", body: { kind: "json", value: {} } },
    { method: "DELETE", path: "/v1/emails/0b6f7a51-2a3c-4b5d-8e9f-0a1b2c3d4e5f", body: { kind: "none" } },
    { method: "GET", path: "/v1/emails", body: { kind: "none" } },
    { method: "POST", path: "/v1/emails/", body: { kind: "json", value: {} } },
    { method: "POST", path: "/v1/emails?x=%", body: { kind: "json", value: {} } },
  );
  return fc
    .record({
      req: fc.oneof(
        { arbitrary: post, weight: 10 },
        { arbitrary: patch, weight: 6 },
        { arbitrary: get, weight: 2 },
        { arbitrary: other, weight: 1 },
      ),
      auth,
      contentType,
    })
    .map(({ req, auth, contentType }): Case => ({ target: "email", auth, contentType, ...req }));
}

/* ---------------------------------------------------------------- admin API */

type Shape = Record<string, z.ZodType>;
interface Endpoint {
  method: string;
  path: string;
  pool?: Pool;
  query?: Shape;
  body?: Shape;
  operator?: boolean;
}

const ENDPOINTS: Endpoint[] = [
  { method: "GET", path: "/v1/admin/failed-tasks", query: listTasksQuery.shape as Shape },
  { method: "GET", path: "/v1/admin/failed-tasks/{ref}", pool: "task" },
  {
    method: "POST",
    path: "/v1/admin/failed-tasks/{ref}/replay",
    pool: "task",
    body: replayTaskBody.shape as Shape,
    operator: true,
  },
  { method: "GET", path: "/v1/admin/failure-groups", query: listGroupsQuery.shape as Shape },
  { method: "GET", path: "/v1/admin/failure-groups/{ref}", pool: "group" },
  {
    method: "POST",
    path: "/v1/admin/failure-groups/{ref}/acknowledge",
    pool: "group",
    body: groupActionBody.shape as Shape,
    operator: true,
  },
  {
    method: "POST",
    path: "/v1/admin/failure-groups/{ref}/reopen",
    pool: "group",
    body: groupActionBody.shape as Shape,
    operator: true,
  },
  {
    method: "POST",
    path: "/v1/admin/failure-groups/{ref}/explode",
    pool: "group",
    body: groupActionBody.shape as Shape,
    operator: true,
  },
  { method: "POST", path: "/v1/admin/replay-plans", body: createPlanBody.shape as Shape, operator: true },
  { method: "GET", path: "/v1/admin/replay-plans/{ref}", pool: "plan" },
  { method: "POST", path: "/v1/admin/replay-jobs", body: createJobBody.shape as Shape, operator: true },
  { method: "GET", path: "/v1/admin/replay-jobs", query: listJobsQuery.shape as Shape },
  { method: "GET", path: "/v1/admin/replay-jobs/{ref}", pool: "job" },
  {
    method: "POST",
    path: "/v1/admin/replay-jobs/{ref}/cancel",
    pool: "job",
    body: cancelJobBody.shape as Shape,
    operator: true,
  },
  { method: "GET", path: "/v1/admin/audit", query: listAuditQuery.shape as Shape },
  { method: "GET", path: "/v1/sync/status" },
  { method: "POST", path: "/v1/admin/reconcile", body: {} },
  { method: "GET", path: "/v1/admin/reconcile", query: {} },
  { method: "POST", path: "/v1/admin/backfill/{entity}", body: {} },
  { method: "GET", path: "/v1/admin/backfill/{entity}" },
  { method: "POST", path: "/v1/admin/integrity" },
  { method: "GET", path: "/v1/admin/integrity", query: {} },
  { method: "DELETE", path: "/v1/admin/failed-tasks" },
];

/** Query strings: valid parameters, odd values, unknown and repeated keys, broken percent-encoding. */
function queryString(specs: FieldSpec[]): fc.Arbitrary<string> {
  const param = fc.oneof(
    ...(specs.length
      ? [
          {
            arbitrary: fc.constantFrom(...specs).chain((s) => queryValueFor(s).map((v) => `${s.name}=${v}`)),
            weight: 6,
          },
        ]
      : []),
    {
      arbitrary: fc.record({ k: oddKey, v: oddString }).map(({ k, v }) => `${percentEncode(k)}=${percentEncode(v)}`),
      weight: 1,
    },
    {
      arbitrary: fc.constantFrom(
        "%",
        "%E0%A4%A",
        "=x",
        "&&",
        "a=%ZZ",
        "limit=1e3",
        "limit=0x10",
        "limit=%20%205",
        "limit=-0",
        "limit=5.0",
        "limit=",
        "limit",
        "cursor=%00",
        "since=2025-02-30T00:00:00Z",
        "status=open&status=resolved",
        "since=+010000-01-01T00:00:00.000Z",
      ),
      weight: 2,
    },
  );
  return fc.array(param, { maxLength: 4 }).map((ps) => (ps.length ? `?${ps.join("&")}` : ""));
}

function queryValueFor(s: FieldSpec): fc.Arbitrary<string> {
  const valid =
    s.kind === "enum"
      ? fc.constantFrom(...s.options)
      : s.kind === "timestamp"
        ? fc.constantFrom("2025-01-01T00:00:00Z", "2030-01-01T00:00:00+01:00")
        : s.kind === "int"
          ? fc.integer({ min: -5, max: 300 }).map(String)
          : fc.constantFrom("x", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "0123456789abcdef");
  const odd = fc.oneof(
    oddTimestamp.map((v) => (typeof v === "string" ? v : (JSON.stringify(v) ?? ""))),
    oddString,
    fc.constantFrom("1e400", "-0", "NaN", "9007199254740993"),
  );
  return fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: odd.map(percentEncode), weight: 2 });
}

export function adminCase(): fc.Arbitrary<Case> {
  return fc
    .record({
      endpoint: fc.constantFrom(...ENDPOINTS),
      index: fc.nat(),
      odd: rarely(oddSegment, 4),
      entity: fc.oneof(
        { arbitrary: fc.constantFrom(...ENTITIES.map((e) => e.name)), weight: 6 },
        {
          arbitrary: fc.constantFrom("activities", "failed_tasks", "%", "PROSPECTS", "..", "__proto__", "constructor"),
          weight: 1,
        },
      ),
      auth,
      operator,
      contentType,
      raw: rarely(rawBody, 12),
    })
    .chain(({ endpoint, index, odd, entity, auth, operator, contentType, raw }) => {
      const querySpecs = endpoint.query ? fieldSpecs(endpoint.query) : [];
      const bodySpecs = endpoint.body ? fieldSpecs(endpoint.body) : undefined;
      const query = endpoint.query ? queryString(querySpecs) : fc.constant("");
      const body: fc.Arbitrary<Body> =
        raw !== undefined
          ? fc.constant(raw)
          : endpoint.path.endsWith("/reconcile") && endpoint.method === "POST"
            ? reconcileBody()
            : endpoint.path.includes("/backfill/") && endpoint.method === "POST"
              ? backfillBody()
              : bodySpecs
                ? fc
                    .record({ v: validObject(bodySpecs), m: mutations(bodySpecs, oddKey) })
                    .map(({ v, m }): Body => ({ kind: "json", value: applyMutations(v, m) }))
                : fc.constant<Body>({ kind: "none" });
      return fc.record({ query, body }).map(({ query, body }): Case => ({
        target: "admin",
        method: endpoint.method,
        path: `${endpoint.path.replace("{entity}", percentEncode(entity))}${query}`,
        ...(endpoint.pool ? { ref: { pool: endpoint.pool, index, ...(odd !== undefined ? { raw: odd } : {}) } } : {}),
        auth,
        operator,
        contentType,
        body,
      }));
    });
}

/** POST /v1/admin/reconcile: small maxRows mostly (the stores are small, but keep the run fast). */
function reconcileBody(): fc.Arbitrary<Body> {
  return fc
    .record({
      entity: fc.option(fc.oneof(fc.constantFrom(...ENTITIES.map((e) => e.name), "activities"), oddString), {
        nil: undefined,
      }),
      repair: fc.option(fc.oneof(fc.boolean(), oddValue), { nil: undefined }),
      maxRows: fc.option(fc.oneof(fc.integer({ min: 1, max: 50 }), oddValue), { nil: undefined }),
      after: fc.option(fc.oneof(fc.uuid(), oddString), { nil: undefined }),
      until: fc.option(fc.oneof(fc.uuid(), oddString), { nil: undefined }),
      extra: rarely(oddValue, 4),
    })
    .map((b): Body => ({
      kind: "json",
      value: JSON.parse(JSON.stringify(b, (_, v) => (v instanceof RawJson ? undefined : v))) as unknown,
    }));
}

function backfillBody(): fc.Arbitrary<Body> {
  return fc
    .record({
      maxRows: fc.option(fc.oneof(fc.integer({ min: 1, max: 50 }), oddValue), { nil: undefined }),
      restart: fc.option(fc.oneof(fc.boolean(), oddValue), { nil: undefined }),
    })
    .map((value): Body => ({ kind: "json", value }));
}

/** Callers' own request ids: well-formed ones are echoed, others replaced by a generated one. */
const requestId = rarely(
  fc.constantFrom(
    "a",
    "x".repeat(128),
    "x".repeat(129),
    "has space",
    "semi;colon",
    "ünïcode",
    "",
    "req_01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "../../etc",
    "%00",
  ),
  25,
);

export function caseArbitrary(target: Target, ctx: CaseContext): fc.Arbitrary<Case> {
  const base = target === "webhook" ? webhookCase() : target === "email" ? emailCase(ctx) : adminCase();
  return fc.tuple(base, requestId).map(([c, id]) => (id === undefined ? c : { ...c, requestId: id }));
}
