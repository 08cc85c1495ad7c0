import { contacts } from "../../schemas/entities/contacts";
import { hubspotIdOfContact } from "../../schemas/hubspot/contact-id";
import { ConflictError, ValidationError } from "../../core/errors";
import type { RowState } from "../../core/stores/row-state";
import { contactStates } from "../hubspot-contacts";
import type { HubSpotClient } from "./client";
import { currentContacts } from "./current-contacts";

/**
 * HubSpot as the source store refresh replay reads (ReplayStores.source for an entity whose
 * authority is "hubspot"): the contacts named by row id, batch-read (≤ 100 ids a call, through the
 * client's rate budget, token renewal and retries), mapped to rows exactly as the sync maps them
 * (contactStates); an archived contact is its tombstone. `connect` answers null when no portal is
 * connected: the read refuses with HUBSPOT_NOT_CONNECTED, which replay turns into a skip, the task
 * left as it was. HubSpot failing after the client's retries throws its retryable
 * HUBSPOT_UNAVAILABLE: a single replay answers 503, a job's tick comes back later.
 */
export function hubspotContactState(connect: () => Promise<Pick<HubSpotClient, "batchRead"> | null>): RowState {
  const current: RowState["current"] = async (entity, ids) => {
    // HubSpot owns contacts only; another HubSpot object would need its own endpoint and mapping.
    if (entity !== contacts)
      throw new ValidationError(
        "EXTERNAL_AUTHORITY_UNSUPPORTED",
        `${entity.name} is authoritative in ${entity.authority}, and only its contacts can be read back`,
      );
    const client = await connect();
    if (!client)
      throw new ConflictError(
        "HUBSPOT_NOT_CONNECTED",
        "no HubSpot portal is connected, so HubSpot cannot be read: connect it (console HubSpot page or GET /v1/hubspot/connect), then replay again",
      );
    const hubspotIds = ids.map(hubspotIdOfContact).filter((id): id is string => id !== null);
    return contactStates((await currentContacts(client, hubspotIds)).contacts);
  };
  return {
    store: "hubspot",
    current,
    async versions(entity, ids) {
      return new Map([...(await current(entity, ids))].map(([id, state]) => [id, state.version]));
    },
  };
}
