import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The layers (ARCHITECTURE.md): imports flow one way,
//   schemas → core → producers | consumers → src,   and tools (Node-only) may use any of them.
// Each folder lists what it may import besides itself.
const ROOT = resolve(import.meta.dirname, "../..");
const ALLOWED: Record<string, string[]> = {
  schemas: [],
  core: ["schemas"],
  producers: ["schemas", "core"],
  consumers: ["schemas", "core"],
  src: ["schemas", "core", "producers", "consumers"],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import of a file, as the top-level folder it lands in. */
function importedFolders(file: string): Array<{ spec: string; folder: string }> {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return specs.map((spec) => ({ spec, folder: relative(ROOT, resolve(dirname(file), spec)).split("/")[0]! }));
}

describe("layering: imports flow one way", () => {
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`${layer}/ imports only ${allowed.length ? allowed.join(", ") : "itself"}`, () => {
      const violations = tsFiles(join(ROOT, layer)).flatMap((file) =>
        importedFolders(file)
          .filter(({ folder }) => folder !== layer && !allowed.includes(folder))
          .map(({ spec }) => `${relative(ROOT, file)} imports ${spec}`),
      );
      expect(violations).toEqual([]);
    });
  }

  it("the checker sees a violation when there is one", () => {
    // Guards the test itself: a consumer importing a producer must be reported.
    const folder = relative(ROOT, resolve(join(ROOT, "consumers"), "../producers/publish")).split("/")[0];
    expect(folder).toBe("producers");
    expect(ALLOWED.consumers).not.toContain(folder);
  });

  it("failed_tasks, failed_task_history and failure_groups are written only under core/ledger/", () => {
    const writes =
      /\b(INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+(failed_tasks|failed_task_history|failure_groups)\b/i;
    const writers = ["src", "producers", "consumers", "core"]
      .flatMap((layer) => tsFiles(join(ROOT, layer)))
      .filter((file) => !relative(ROOT, file).startsWith("core/ledger/"))
      .filter((file) => writes.test(readFileSync(file, "utf8")))
      .map((file) => relative(ROOT, file));
    expect(writers).toEqual([]);
  });
});
