import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../../src/env";

// The test worker's bindings: the worker's own plus the D1 migrations the setup file applies.
declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
export {};
