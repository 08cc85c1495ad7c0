import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    silent: "passed-only",
    // The JSON report lets .ci/run print one plain "N passed, N failed" line.
    reporters: ["default", ["json", { outputFile: ".test-results.json" }]],
    projects: [
      {
        // The worker, D1 and Queues in workerd (Miniflare); Postgres is a real server.
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                WEBHOOK_SECRET: "test-webhook-secret",
                ADMIN_TOKEN: "test-admin-token",
                API_TOKEN: "test-api-token",
                TEST_MIGRATIONS: await readD1Migrations("./migrations/d1"),
              },
              hyperdrives: { HYPERDRIVE: inject("databaseUrl") },
            },
          })),
        ],
        test: {
          name: "worker",
          globalSetup: ["./test/global-setup.ts"],
          setupFiles: ["./test/support/apply-d1-migrations.ts"],
          include: ["test/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Node-side: the whole local stack (wrangler dev, Postgres, the pg_net relay) end to end.
        test: { name: "stack", include: ["test/node/**/*.test.ts"], environment: "node", testTimeout: 300_000 },
      },
    ],
  },
});
