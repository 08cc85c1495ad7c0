/**
 * The worker's bindings and vars. `npm run types` generates Cloudflare.Env from wrangler.toml and
 * .dev.vars.example into worker-configuration.d.ts (CI fails when it is stale). It types every
 * var and secret as a set string, but a secret may never have been put and a var may be removed
 * from the dashboard: here they are optional, so the code must check them. So is HYPERDRIVE (the
 * rest transport needs none). Generated with --strict-vars false: a var is any string a deployment
 * sets, not the literal wrangler.toml states.
 */
type Generated = Cloudflare.Env;
type MaybeUnset = { [K in keyof Generated]: Generated[K] extends string ? K : never }[keyof Generated] | "HYPERDRIVE";

export type Env = Omit<Generated, MaybeUnset> & Partial<Pick<Generated, MaybeUnset>>;
