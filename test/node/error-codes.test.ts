import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, isErrorCode, type ErrorCode, type ErrorCodeSpec } from "../../core/error-codes";
import * as errors from "../../core/errors";
import { openApiDocument } from "../../src/http/openapi";
import { withErrorCodesTable } from "../../tools/docs/error-codes-table";

// The catalog (core/error-codes.ts) is the one list of stable codes. This test reads the worker's
// source the way a reviewer would: every `new XError("CODE", …)` and every code written into a
// failure record must be catalogued, with the status and retry intent the catalog gives it.
const ROOT = resolve(import.meta.dirname, "../..");
const LAYERS = ["schemas", "core", "producers", "consumers", "src"];
const CATALOG = ERROR_CODES as Record<string, ErrorCodeSpec>;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") ? [path] : [];
  });
}

const SOURCES = LAYERS.flatMap((layer) => tsFiles(join(ROOT, layer)))
  .filter((file) => !file.endsWith("core/error-codes.ts"))
  .map((file) => ({ file: relative(ROOT, file), text: readFileSync(file, "utf8") }));

/** The top-level arguments of the call whose "(" is at `open`, as source text (strings and templates skipped over). */
function callArguments(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'" || ch === "`") {
      i = skipString(text, i);
      continue;
    }
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i));
        return args.map((a) => a.trim()).filter((a, n, all) => a !== "" || n < all.length - 1);
      }
    } else if (ch === "," && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
  }
  throw new Error("unbalanced call");
}

/** The index of the quote closing the string literal opened at `i` (template holes included). */
function skipString(text: string, i: number): number {
  const quote = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === quote) return j;
    else if (quote === "`" && text[j] === "$" && text[j + 1] === "{") {
      let depth = 0;
      for (j++; j < text.length; j++) {
        if (text[j] === "{") depth++;
        else if (text[j] === "}" && --depth === 0) break;
        else if (text[j] === '"' || text[j] === "'" || text[j] === "`") j = skipString(text, j);
      }
    }
  }
  throw new Error("unterminated string");
}

const CLASSES = [
  "SyncError",
  "ValidationError",
  "ConflictError",
  "NotFoundError",
  "AuthError",
  "ForbiddenError",
  "TransientError",
  "PermanentStoreError",
] as const;
type ClassName = (typeof CLASSES)[number];
const literal = (arg: string | undefined) => /^"([A-Z][A-Z0-9_]*)"$/.exec(arg ?? "")?.[1];

interface Construction {
  where: string;
  cls: ClassName;
  /** The code's source text: a literal code, or an expression (a code decided elsewhere). */
  code: string;
  literal: boolean;
  status?: number;
  error: errors.SyncError;
}

/** Every construction of an error class in the worker's source, built again to read its status and retry intent. */
function constructions(): Construction[] {
  const out: Construction[] = [];
  for (const { file, text } of SOURCES) {
    for (const m of text.matchAll(new RegExp(`\\bnew (${CLASSES.join("|")})\\(`, "g"))) {
      const cls = m[1] as ClassName;
      const args = callArguments(text, m.index + m[0].length - 1);
      const where = `${file}:${text.slice(0, m.index).split("\n").length}`;
      let code: string | undefined;
      let codeText: string;
      let status: number | undefined;
      let error: errors.SyncError;
      if (cls === "NotFoundError") {
        error = new errors.NotFoundError("m");
        codeText = `"${error.code}"`;
      } else if (cls === "AuthError") {
        codeText = args[1] ?? '"UNAUTHORIZED"';
        code = literal(codeText);
        error = new errors.AuthError("m", code as ErrorCode | undefined);
      } else {
        codeText = args[0]!;
        code = literal(codeText) ?? "DYNAMIC";
        if (cls === "ValidationError" && args[3]) status = Number(args[3]);
        // Built from whatever the source passes, listed or not: this test is what finds an unlisted one.
        const asWritten = code as ErrorCode;
        error =
          cls === "SyncError"
            ? new errors.SyncError(asWritten, "m", { retryable: false, status: 0 })
            : cls === "ValidationError"
              ? new errors.ValidationError(asWritten, "m", undefined, ...(status ? [status] : []))
              : new errors[cls](asWritten, "m");
      }
      out.push({
        where,
        cls,
        code: literal(codeText) ?? codeText,
        literal: literal(codeText) !== undefined,
        status,
        error,
      });
    }
  }
  return out;
}

/** Codes written as data: failure records, outcomes, run problems, skip decisions, the edge's INTERNAL. */
function codesWrittenAsData(): Array<{ where: string; code: string }> {
  const patterns = [
    /\b(?:code|error_code)\s*(?::|===|!==|=)\s*"([A-Z][A-Z0-9_]*)"/g,
    /\bskip\(\s*"([A-Z][A-Z0-9_]*)"/g,
    /\bSkipCode\s*=\s*((?:\s*\|?\s*"[A-Z0-9_]+")+)/g,
  ];
  const out: Array<{ where: string; code: string }> = [];
  for (const { file, text } of SOURCES) {
    for (const pattern of patterns) {
      for (const m of text.matchAll(pattern)) {
        for (const code of m[1]!.match(/[A-Z][A-Z0-9_]*/g)!)
          out.push({ where: `${file}:${text.slice(0, m.index).split("\n").length}`, code });
      }
    }
  }
  return out;
}

/** What the Postgres classifier names SQLSTATEs (pg-errors.ts): each is a code. */
function pgClassifierCodes(): string[] {
  const text = readFileSync(join(ROOT, "core/stores/pg-errors.ts"), "utf8");
  return [...text.matchAll(/(?:return|[?:])\s*"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1]!);
}

describe("error-code catalog", () => {
  const built = constructions();

  it("finds the error constructions in the source (the scanner works)", () => {
    expect(built.length).toBeGreaterThan(60);
    expect(built.some((c) => c.code === "EVENT_TOO_LARGE" && c.status === 413)).toBe(true);
  });

  it("every code an error class is thrown with is catalogued", () => {
    const unknown = built
      .filter((c) => c.literal && !isErrorCode(c.code))
      .map((c) => `${c.where}: new ${c.cls}(${c.code})`);
    expect(unknown).toEqual([]);
  });

  it("every thrown code answers with the catalogued status and retry intent", () => {
    const mismatched = built
      .filter((c) => c.literal && isErrorCode(c.code))
      .filter((c) => CATALOG[c.code]!.status !== c.error.status || CATALOG[c.code]!.retryable !== c.error.retryable)
      .map(
        (c) =>
          `${c.where}: new ${c.cls}(${c.code}) answers ${c.error.status} retryable=${c.error.retryable}; catalog: ${CATALOG[c.code]!.status} retryable=${CATALOG[c.code]!.retryable}`,
      );
    expect(mismatched).toEqual([]);
  });

  it("codes decided elsewhere are passed through at known places only (each checked below)", () => {
    // pg-errors names SQLSTATEs (pgClassifierCodes), replay-task answers with a SkipCode, backfill
    // rethrows an apply outcome's code (apply-batch's codes are data, checked below).
    const dynamic = built
      .filter((c) => !c.literal)
      .map((c) => `${c.where.replace(/:\d+$/, "")}: new ${c.cls}(${c.code})`);
    expect([...new Set(dynamic)].sort()).toEqual([
      "core/stores/pg-errors.ts: new PermanentStoreError(pgCodeName(code))",
      "src/services/backfill.ts: new TransientError(transient.error.code)",
      "src/services/replay-task.ts: new ConflictError(decision!.code)",
      "src/services/replay-task.ts: new ValidationError(decision!.code)",
    ]);
  });

  it("codes recorded as data (failed_tasks, outcomes, run problems, replay skips) are catalogued", () => {
    const written = codesWrittenAsData();
    expect(written.length).toBeGreaterThan(10);
    const unknown = [...written, ...pgClassifierCodes().map((code) => ({ where: "core/stores/pg-errors.ts", code }))]
      .filter((w) => !isErrorCode(w.code))
      .map((w) => `${w.where}: ${w.code}`);
    expect(unknown).toEqual([]);
  });

  it("a code recorded as data carries the catalogued retry intent", () => {
    // An object literal naming a code and a retryable flag (an apply outcome, a dead-letter record).
    const records = SOURCES.flatMap(({ file, text }) =>
      [...text.matchAll(/\b(?:code|error_code):\s*"([A-Z][A-Z0-9_]*)"[^}]*?\bretryable:\s*(true|false|1|0)\b/g)].map(
        (m) => ({
          where: `${file}:${text.slice(0, m.index).split("\n").length}`,
          code: m[1]!,
          retryable: m[2] === "true" || m[2] === "1",
        }),
      ),
    );
    expect(records.length).toBeGreaterThanOrEqual(3);
    const mismatched = records
      .filter((r) => CATALOG[r.code]?.retryable !== r.retryable)
      .map((r) => `${r.where}: ${r.code} retryable=${r.retryable}`);
    expect(mismatched).toEqual([]);
  });

  it("a replay skip answers with its catalogued status", () => {
    // replay-task.ts throws its CONFLICTS as ConflictError (409), the rest with the catalogued status.
    for (const code of ["ALREADY_RESOLVED", "ALREADY_REPLAYING", "QUARANTINED", "HUBSPOT_NOT_CONNECTED"] as const)
      expect(CATALOG[code]!.status).toBe(409);
    expect(CATALOG.NOT_REPLAYABLE!.status).toBe(422);
    expect(CATALOG.TASK_EXPIRED!.status).toBe(410);
  });

  it("lists no code the source never emits", () => {
    const emitted = new Set([
      ...built.filter((c) => c.literal).map((c) => c.code),
      ...codesWrittenAsData().map((w) => w.code),
      ...pgClassifierCodes(),
    ]);
    expect(Object.keys(CATALOG).filter((code) => !emitted.has(code))).toEqual([]);
  });

  it("a code that is never an HTTP answer is never thrown", () => {
    const thrown = built
      .filter((c) => c.literal && CATALOG[c.code]?.status === null)
      .map((c) => `${c.where}: ${c.code}`);
    expect(thrown).toEqual([]);
  });

  it("the README table is generated from the catalog (run npm run docs:errors)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(withErrorCodesTable(readme)).toBe(readme);
  });

  it("the OpenAPI error responses name every HTTP code under its status", () => {
    const responses = (openApiDocument().components as { responses: Record<string, { description: string }> })
      .responses;
    for (const [code, spec] of Object.entries(CATALOG)) {
      if (spec.status === null) continue;
      expect(responses[`E${spec.status}`]?.description, code).toMatch(new RegExp(`\\b${code}\\b`));
    }
  });
});
