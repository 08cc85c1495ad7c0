import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export const TEST_SECRETS = {
  WEBHOOK_SECRET: "test-webhook-secret",
  ADMIN_TOKEN: "test-admin-token",
  API_TOKEN: "test-api-token",
};

export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { ...TEST_SECRETS, TEST_MIGRATIONS: await readD1Migrations("./migrations/d1") },
        hyperdrives: { HYPERDRIVE: inject("databaseUrl") },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    setupFiles: ["./test/support/apply-d1-migrations.ts"],
    include: ["test/**/*.test.ts", "schemas/**/*.test.ts", "consumers/**/*.test.ts", "producers/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 30_000,
    silent: "passed-only",
    hookTimeout: 60_000,
  },
});
