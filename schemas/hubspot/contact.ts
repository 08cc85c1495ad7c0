/**
 * The contract with the HubSpot fetch side: a contact as HubSpot's public CRM v3 API returns it
 * (GET /crm/v3/objects/contacts, search, batch read). Property values are strings or null; which
 * properties appear depends on what the request asked for.
 */
export interface HubSpotContact {
  id: string;
  properties: Record<string, string | null | undefined>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string | null;
}

/** The properties that get a column of their own in Supabase; all of them stay in `data` too. */
export const CONTACT_COLUMNS = {
  email: "email",
  first_name: "firstname",
  last_name: "lastname",
  phone: "phone",
  company: "company",
} as const;
