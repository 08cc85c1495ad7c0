import type { D1Migration } from "cloudflare:test";

// The test worker's bindings: the worker's own (generated in worker-configuration.d.ts) plus the
// D1 migrations the setup file applies.
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
export {};

// What test/global-setup.ts provides to worker tests (inject()).
declare module "vitest" {
  export interface ProvidedContext {
    hubspot: { url: string; clientId: string; clientSecret: string; portalId: number };
    hubspotConsole: { url: string; clientId: string; clientSecret: string; portalId: number };
    hubspotReplay: { url: string; clientId: string; clientSecret: string; portalId: number };
  }
}
