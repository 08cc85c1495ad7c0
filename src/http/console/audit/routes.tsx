/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { listAuditQuery } from "../../../../schemas/operator-api";
import { SyncError } from "../../../../core/errors";
import { listAudit } from "../../../services/audit";
import type { AppEnv } from "../../context";
import { parseRequest } from "../../read-json";
import { refusalOf } from "../refusal";
import { AuditPage } from "./page";

const FILTERS = ["actor", "action", "auth", "target", "since", "until"] as const;
/** What a datetime-local input sends: a wall-clock time without a zone; the page labels it UTC. */
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

function asUtc(value: string): string {
  if (!LOCAL_TIME.test(value)) return value; // typed with its own zone, or not a time: the schema decides
  return value.length === 16 ? `${value}:00Z` : `${value}Z`;
}

/**
 * /console/audit: the audit trail through listAudit with the API's own query schema
 * (GET /v1/admin/audit), filtered and paged by its keyset cursor.
 */
export const auditConsole = new Hono<AppEnv>().get("/", async (c) => {
  const raw = c.req.query();
  // Filters as typed, without the empty fields a GET form always sends.
  const filters: Record<string, string> = {};
  for (const key of FILTERS) if (raw[key]?.trim()) filters[key] = raw[key].trim();
  const session = c.get("consoleSession")!;
  const query: Record<string, string> = { ...filters };
  if (raw.cursor) query.cursor = raw.cursor;
  if (raw.limit) query.limit = raw.limit;
  if (query.since) query.since = asUtc(query.since);
  if (query.until) query.until = asUtc(query.until);
  let page: Awaited<ReturnType<typeof listAudit>>;
  try {
    page = await listAudit(c.get("deps").db, parseRequest(listAuditQuery, query));
  } catch (error) {
    if (!(error instanceof SyncError)) throw error;
    return c.html(
      <AuditPage
        session={session}
        filters={filters}
        items={[]}
        nextPage={null}
        firstPage={null}
        refusal={refusalOf(error)}
      />,
      error.status as 400,
    );
  }
  const link = (cursor: string | null) => {
    const params = new URLSearchParams(filters);
    if (raw.limit) params.set("limit", raw.limit);
    if (cursor) params.set("cursor", cursor);
    const search = params.toString();
    return `/console/audit${search ? `?${search}` : ""}`;
  };
  return c.html(
    <AuditPage
      session={session}
      filters={filters}
      items={page.items}
      nextPage={page.nextCursor ? link(page.nextCursor) : null}
      firstPage={raw.cursor ? link(null) : null}
    />,
  );
});
