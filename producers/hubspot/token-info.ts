import { TransientError, ValidationError } from "../../core/errors";
import type { OAuthDeps } from "./oauth";

/**
 * Which portal an access token belongs to. HubSpot's OAuth v1 token metadata endpoint,
 * `GET /oauth/v1/access-tokens/:token` (developers.hubspot.com, "Get OAuth token metadata"), answers
 * `{ token, user, hub_domain, scopes, hub_id, app_id, expires_in, user_id, token_type }`. The code
 * exchange's own answer gained hub_id and scopes in 2025, but older apps and the v1 contract do not
 * promise them, so the portal is read here.
 */
export interface AccessTokenInfo {
  hubId: number;
  scopes: string[];
  hubDomain: string | null;
}

export async function accessTokenInfo(deps: OAuthDeps, accessToken: string): Promise<AccessTokenInfo> {
  let res: Response;
  try {
    res = await deps.fetch(`${deps.baseUrl}/oauth/v1/access-tokens/${encodeURIComponent(accessToken)}`);
  } catch (cause) {
    throw new TransientError("HUBSPOT_UNAVAILABLE", "HubSpot's token metadata endpoint could not be reached", cause);
  }
  const text = await res.text();
  if (res.status === 429 || res.status >= 500) {
    throw new TransientError("HUBSPOT_UNAVAILABLE", `HubSpot's token metadata endpoint answered ${res.status}`, text);
  }
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // handled below
  }
  const hubId = Number(json?.hub_id);
  if (!res.ok || !Number.isSafeInteger(hubId) || hubId <= 0) {
    throw new ValidationError(
      "HUBSPOT_AUTH_FAILED",
      `HubSpot did not name the portal of the new access token (${res.status}): ${text.slice(0, 200)}`,
    );
  }
  const scopes = Array.isArray(json?.scopes) ? json.scopes.filter((s): s is string => typeof s === "string") : [];
  return { hubId, scopes, hubDomain: typeof json?.hub_domain === "string" ? json.hub_domain : null };
}
