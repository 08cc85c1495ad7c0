/**
 * `npm run dev`: the whole pipeline locally, nothing to install.
 *   Postgres: DATABASE_URL, or embedded PGlite served on 127.0.0.1:$PG_PORT (default 54329),
 *             data kept in .dev/pglite
 *   Worker:   wrangler dev on $PORT (default 8787), local D1 and Queues kept in .dev/wrangler
 *   HubSpot:  without HUBSPOT_CLIENT_ID, a local stand-in on $HUBSPOT_STANDIN_PORT (default 8790)
 *             with $HUBSPOT_STANDIN_CONTACTS (default 300) contacts, in this process
 * Env: DATABASE_URL, PORT, PG_PORT, WEBHOOK_SECRET, ADMIN_TOKEN, API_TOKEN, HUBSPOT_CLIENT_ID,
 *      HUBSPOT_CLIENT_SECRET, HUBSPOT_TOKEN_KEYS, HUBSPOT_API_BASE, HUBSPOT_AUTH_BASE.
 */
import { join } from "node:path";
import { startDevHubSpot, type DevHubSpot } from "../local/dev-hubspot";
import { redact, startDevStack, type DevSecrets, type DevStack } from "../local/dev-stack";
import { PROJECT_ROOT } from "../local/wrangler";
import { consoleHint, DEV_ADMIN_TOKEN, DEV_PORT } from "./console-hint";

const env = process.env;
const port = Number(env.PORT ?? DEV_PORT);
const pgPort = Number(env.PG_PORT ?? 54329);
const persistDir = join(PROJECT_ROOT, ".dev/wrangler");
const secrets: DevSecrets = {
  WEBHOOK_SECRET: env.WEBHOOK_SECRET || "dev-webhook-secret",
  ADMIN_TOKEN: env.ADMIN_TOKEN || DEV_ADMIN_TOKEN,
  API_TOKEN: env.API_TOKEN || "dev-api-token",
};

const log = (line: string) => console.log(`[dev] ${line}`);
// Offline, wrangler cannot fetch the Request.cf object: a harmless warning plus a stack trace.
const NOISE = /Request\.cf` object|ENOTFOUND workers\.cloudflare\.com|at GetAddrInfoReqWrap/;
const wranglerOutput = (line: string) => {
  if (line.trim() && !NOISE.test(line)) console.log(`[wrangler] ${line}`);
};

// Installed first: a Ctrl-C during start-up exits at once, and the 'exit' hooks of the started
// pieces kill wrangler's process group. Once running, a Ctrl-C stops everything in order.
// Under `npm run dev` one Ctrl-C arrives twice (from the terminal and relayed by npm/tsx), so
// only a second one more than 2 s later forces the exit.
let stack: DevStack | undefined;
let hubspot: DevHubSpot | undefined;
let stoppingSince = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (!stack) {
      // The stand-in is a server in this process: exiting closes it.
      process.exit(130);
    }
    if (stoppingSince) {
      if (Date.now() - stoppingSince > 2000) process.exit(130);
      return;
    }
    stoppingSince = Date.now();
    log("stopping… (Ctrl-C again to force)");
    stack
      .stop()
      .then(() => hubspot?.stop())
      .then(
        () => {
          log("stopped");
          process.exit(0);
        },
        (error: Error) => {
          console.error(`[dev] shutdown failed: ${error.message}`);
          process.exit(1);
        },
      );
  });
}

hubspot = await startDevHubSpot(env).catch((error: Error) => {
  console.error(`[dev] the HubSpot stand-in failed to start: ${error.message}`);
  process.exit(1);
});
if (hubspot.standIn)
  log(
    `hubspot: stand-in on ${hubspot.standIn.url}, portal ${hubspot.standIn.portal.portalId} (${hubspot.standIn.portal.size} contacts)`,
  );

stack = await startDevStack({
  port,
  persistDir,
  databaseUrl: env.DATABASE_URL || undefined,
  pglite: { dataDir: join(PROJECT_ROOT, ".dev/pglite"), port: pgPort },
  secrets,
  vars: hubspot.vars,
  log,
  wranglerOutput,
  cronIntervalMs: 60_000,
}).catch((error: Error) => {
  console.error(`[dev] failed to start: ${error.message}`);
  process.exit(1);
});

const w = stack.workerUrl;
const psql = `PGSSLMODE=disable psql "${redact(stack.databaseUrl)}"`;
console.log(`
supabase-d1-sync is running
  worker      ${w}   (wrangler dev; local D1 + Queues in ${persistDir})
  postgres    ${redact(stack.databaseUrl)}   (${stack.embedded ? "embedded PGlite, data in .dev/pglite" : "DATABASE_URL"})
  webhooks    triggers on Supabase-authoritative tables -> ${w}/webhooks/supabase${stack.relay ? " (delivered by the local pg_net relay)" : ""}
  tokens      WEBHOOK_SECRET=${secrets.WEBHOOK_SECRET}  API_TOKEN=${secrets.API_TOKEN}  ADMIN_TOKEN=${secrets.ADMIN_TOKEN}
  console     ${consoleHint(w, secrets.ADMIN_TOKEN)}
  hubspot     ${
    hubspot.standIn
      ? `local stand-in ${hubspot.standIn.url} (portal ${hubspot.standIn.portal.portalId}, ${hubspot.standIn.portal.size} contacts)`
      : `HubSpot app ${hubspot.vars.HUBSPOT_CLIENT_ID} (HUBSPOT_CLIENT_ID)`
  }
              connect it: ${w}/console/hubspot -> Connect${hubspot.standIn ? " (the stand-in approves at once)" : ""}

Try it:
  curl -s ${w}/health
  ${psql} -c "insert into prospects (name, contact_email) values ('Acme', 'ceo@acme.test') returning id"
  npx wrangler d1 execute DB --local --persist-to .dev/wrangler --command "select id, name, stage, version from prospects"
  curl -s -X POST ${w}/v1/emails -H "Authorization: Bearer ${secrets.API_TOKEN}" -H "content-type: application/json" \\
    -d '{"prospect_id":"<id from the insert>","to_email":"ceo@acme.test","from_email":"me@example.test","subject":"Hi","body":"Hello","status":"sent","sent_at":"${new Date().toISOString()}"}'
  ${psql} -c "select id, status, version from emails"
  curl -s ${w}/v1/admin/failed-tasks -H "Authorization: Bearer ${secrets.ADMIN_TOKEN}"
${stack.embedded ? "\nPGlite is one backend shared by all connections: while a psql session holds a transaction open, the\nworker and the relay wait for it to end.\n" : ""}
Ctrl-C stops everything.
`);
