import { randomUUID } from "node:crypto";

/**
 * The stand-in's OAuth v1 state: single-use authorization codes, refresh tokens that stay valid
 * until revoked, and access tokens that expire (1800 s by default, HubSpot's published lifetime).
 * A refresh replaces the refresh token's previous access token, which then stops working.
 */
export interface AccessGrant {
  refreshToken: string;
  expiresAt: number;
  /** What the authorize request asked for (the token metadata endpoint reports them). */
  scopes: string[];
}

const DEFAULT_SCOPES = ["oauth", "crm.objects.contacts.read"];

export class OAuthState {
  private readonly codes = new Map<string, { redirectUri: string; expiresAt: number; scopes: string[] }>();
  private readonly refreshTokens = new Map<string, { accessToken?: string; scopes: string[] }>();
  private readonly accessTokens = new Map<string, AccessGrant>();

  constructor(
    private readonly clock: { now(): number },
    public tokenLifetimeSeconds: number,
  ) {}

  /** A code for the authorize redirect, valid once and for 10 minutes. */
  issueCode(redirectUri: string, scopes: string[] = DEFAULT_SCOPES): string {
    const code = `code-${randomUUID()}`;
    this.codes.set(code, { redirectUri, expiresAt: this.clock.now() + 600_000, scopes });
    return code;
  }

  redeemCode(code: string, redirectUri: string): string | undefined {
    const entry = this.codes.get(code);
    this.codes.delete(code);
    if (!entry || entry.redirectUri !== redirectUri || entry.expiresAt < this.clock.now()) return undefined;
    const refreshToken = `refresh-${randomUUID()}`;
    this.refreshTokens.set(refreshToken, { scopes: entry.scopes });
    return refreshToken;
  }

  /** A new access token for a known refresh token; the previous one is revoked. */
  grantAccess(refreshToken: string): { accessToken: string; expiresIn: number } | undefined {
    const entry = this.refreshTokens.get(refreshToken);
    if (!entry) return undefined;
    if (entry.accessToken) this.accessTokens.delete(entry.accessToken);
    const accessToken = `access-${randomUUID()}`;
    entry.accessToken = accessToken;
    this.accessTokens.set(accessToken, {
      refreshToken,
      scopes: entry.scopes,
      expiresAt: this.clock.now() + this.tokenLifetimeSeconds * 1000,
    });
    return { accessToken, expiresIn: this.tokenLifetimeSeconds };
  }

  /** Tokens without the browser round trip, for tests and the dev CLI. */
  connect(): { accessToken: string; refreshToken: string; expiresAt: number } {
    const refreshToken = `refresh-${randomUUID()}`;
    this.refreshTokens.set(refreshToken, { scopes: DEFAULT_SCOPES });
    const { accessToken } = this.grantAccess(refreshToken)!;
    return { accessToken, refreshToken, expiresAt: this.accessTokens.get(accessToken)!.expiresAt };
  }

  lookup(accessToken: string): AccessGrant | undefined {
    return this.accessTokens.get(accessToken);
  }

  /** Fault: every access token expires now (they stay known, so HubSpot's "expired" answer is given). */
  expireAll(): void {
    for (const grant of this.accessTokens.values()) grant.expiresAt = this.clock.now() - 1;
  }

  /**
   * DELETE /oauth/v1/refresh-tokens/:token: the refresh token stops working; false when unknown.
   * Access tokens it issued keep working until they expire (HubSpot: "Access tokens generated with
   * the refresh token will not be affected").
   */
  revoke(refreshToken: string): boolean {
    return this.refreshTokens.delete(refreshToken);
  }

  /** Whether a refresh token still works (tests check what a revocation did). */
  knows(refreshToken: string): boolean {
    return this.refreshTokens.has(refreshToken);
  }

  /** Fault: the portal uninstalled the app; refreshes fail. */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }
}
