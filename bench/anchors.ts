/**
 * Published figures the bench's results are read against: what the deployed services allow,
 * which the local stack neither enforces nor can exceed meaningfully. Each names the page it was
 * read from; the report prints them as footnotes.
 */
export interface Anchor {
  /** The published figure, as a phrase ("5,000 messages/s per queue"). */
  figure: string;
  /** The figure as a number in the unit of the bench figure it sits next to, where one compares. */
  value?: number;
  source: keyof typeof SOURCES;
}

export const SOURCES = {
  queues: "Cloudflare Queues limits, developers.cloudflare.com/queues/platform/limits/",
  d1: "Cloudflare D1 limits, developers.cloudflare.com/d1/platform/limits/",
  hubspot:
    "HubSpot API usage guidelines, developers.hubspot.com/docs/guides/apps/api-usage/usage-details " +
    "(190 / 10 s: developers.hubspot.com/changelog/increasing-our-api-limits)",
  supabase:
    "Supabase Database Webhooks, supabase.com/docs/guides/database/webhooks (a `for each row` trigger on pg_net)",
} as const;

export const ANCHORS = {
  queueThroughput: { figure: "5,000 messages/s per queue", value: 5000, source: "queues" },
  consumerBatch: { figure: "max consumer batch 100 messages", value: 100, source: "queues" },
  sendBatch: { figure: "sendBatch ≤ 100 messages or 256 KB", source: "queues" },
  d1Statement: { figure: "max SQL statement 100 KB", source: "d1" },
  d1BoundParameters: { figure: "max 100 bound parameters per statement", value: 100, source: "d1" },
  d1Row: { figure: "max row 2,000,000 bytes", source: "d1" },
  hubspotGeneral: {
    figure: "100 requests / 10 s (Free/Starter) to 190 / 10 s (Professional/Enterprise)",
    value: 100,
    source: "hubspot",
  },
  hubspotSearch: { figure: "search 5 requests/s", value: 5, source: "hubspot" },
  webhookPerRow: { figure: "Database Webhooks: one pg_net HTTP request per row", value: 1000, source: "supabase" },
} as const satisfies Record<string, Anchor>;

export type AnchorName = keyof typeof ANCHORS;

/** Footnote numbers in the order the sources are listed. */
export function footnote(source: keyof typeof SOURCES): number {
  return Object.keys(SOURCES).indexOf(source) + 1;
}
