import { CONTACT_PROPERTIES, LAST_MODIFIED_PROPERTY, type HubSpotContact, type HubSpotPage } from "./contact";
import { hubspotRequest, type HubSpotDeps } from "./request";

/** The list endpoint's largest page (CRM v3 objects API: `limit` up to 100). */
export const LIST_PAGE_SIZE = 100;
/** The search endpoint's largest page (CRM search API: `limit` up to 200). */
export const SEARCH_PAGE_SIZE = 200;
/** The batch read endpoint's most inputs per call. */
export const BATCH_READ_SIZE = 100;

export interface SearchFilter {
  propertyName: string;
  operator: "EQ" | "GT" | "GTE" | "LT" | "LTE";
  value: string;
}

export interface SearchRequest {
  filters: SearchFilter[];
  sortBy: string;
  after?: string;
}

const PROPERTIES = [...CONTACT_PROPERTIES, LAST_MODIFIED_PROPERTY];

/** HubSpot's contacts API, each call through hubspotRequest (budget, token, retries). */
export function hubspotClient(deps: HubSpotDeps) {
  return {
    /** A page of contacts in id order; `archived: true` lists only archived ones (HubSpot's `archived` query). */
    listContacts(opts: { after?: string; archived?: boolean } = {}): Promise<HubSpotPage> {
      const query = new URLSearchParams({
        limit: String(LIST_PAGE_SIZE),
        archived: String(opts.archived ?? false),
        properties: PROPERTIES.join(","),
      });
      if (opts.after) query.set("after", opts.after);
      return hubspotRequest(deps, { method: "GET", path: `/crm/v3/objects/contacts?${query}` });
    },

    /** One search page (AND of the filters, ascending by `sortBy`). Search never returns archived contacts. */
    search(req: SearchRequest): Promise<HubSpotPage & { total: number }> {
      return hubspotRequest(deps, {
        method: "POST",
        path: "/crm/v3/objects/contacts/search",
        kind: "search",
        body: {
          filterGroups: [{ filters: req.filters }],
          sorts: [{ propertyName: req.sortBy, direction: "ASCENDING" }],
          properties: PROPERTIES,
          limit: SEARCH_PAGE_SIZE,
          ...(req.after ? { after: req.after } : {}),
        },
      });
    },

    /** Contacts modified in [fromMs, toMs], oldest first. Prefer contactsModifiedBetween, which pages safely. */
    searchModifiedBetween(fromMs: number, toMs: number, after?: string) {
      return this.search({
        filters: [
          { propertyName: LAST_MODIFIED_PROPERTY, operator: "GTE", value: String(fromMs) },
          { propertyName: LAST_MODIFIED_PROPERTY, operator: "LTE", value: String(toMs) },
        ],
        sortBy: LAST_MODIFIED_PROPERTY,
        after,
      });
    },

    /**
     * The contacts with these ids, in chunks of 100 (the endpoint's limit). Ids HubSpot does not
     * know (or, with `archived: false`, archived since) come back in `missing`.
     */
    async batchRead(ids: string[], opts: { archived?: boolean } = {}) {
      const results: HubSpotContact[] = [];
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += BATCH_READ_SIZE) {
        const inputs = unique.slice(i, i + BATCH_READ_SIZE).map((id) => ({ id }));
        const page = await hubspotRequest<{ results: HubSpotContact[] }>(deps, {
          method: "POST",
          path: `/crm/v3/objects/contacts/batch/read?archived=${opts.archived ?? false}`,
          body: { inputs, properties: PROPERTIES },
        });
        results.push(...page.results);
      }
      const found = new Set(results.map((c) => c.id));
      return { results, missing: unique.filter((id) => !found.has(id)) };
    },
  };
}

export type HubSpotClient = ReturnType<typeof hubspotClient>;
