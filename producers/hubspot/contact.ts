/**
 * HubSpot's public CRM v3 contact object, as the list, search and batch-read endpoints return it.
 * This is the contract with the storage side (applying contacts to Supabase): we pass it on as
 * HubSpot sent it and never reshape it here.
 */
export interface HubSpotContact {
  /** HubSpot's object id, a decimal string. */
  id: string;
  /** Property values are strings or null, whatever the property's type in HubSpot. */
  properties: Record<string, string | null>;
  /** ISO 8601, UTC. */
  createdAt: string;
  /** ISO 8601, UTC: what the version rule orders by (with the id for ties). */
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** A page of the list and search endpoints: the cursor to the next page is `paging.next.after`. */
export interface HubSpotPage {
  results: HubSpotContact[];
  paging?: { next?: { after: string; link?: string } };
  /** Search only: how many objects match, which may exceed what paging can reach (10,000). */
  total?: number;
}

/** The properties we ask for; `hs_object_id`, `createdate` and `lastmodifieddate` always come back. */
export const CONTACT_PROPERTIES = ["email", "firstname", "lastname", "phone", "company"] as const;

/** The contact property the search API filters and sorts by for incremental sync. */
export const LAST_MODIFIED_PROPERTY = "lastmodifieddate";
