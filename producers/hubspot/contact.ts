import type { HubSpotContact } from "../../schemas/hubspot/contact";

/** The contact object is the contract with the storage side, so it is defined once, in schemas/. */
export type { HubSpotContact };

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
