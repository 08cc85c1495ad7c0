import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { classifyD1Error, d1TriggerCode, d1UniqueViolation } from "../core/stores/d1-errors";
import { classifyPgError } from "../core/stores/pg-errors";
import { emailRow } from "./support/fixtures";
import { pg } from "./support/helpers";

// Errors as the real stores raise them. Postgres errors are classified by SQLSTATE alone (a
// misleading message changes nothing); D1 errors carry only a message, so these tests pin the
// message shapes d1-errors.ts reads.

async function caught(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected the store to refuse");
}

function insertEmail(row: Record<string, unknown>) {
  const columns = Object.keys(row);
  return env.DB.prepare(
    `INSERT INTO emails (${columns.join(", ")}) VALUES (${columns.map((_, i) => `?${i + 1}`).join(", ")})`,
  ).bind(...columns.map((c) => row[c]));
}

describe("Postgres errors are classified by SQLSTATE, not by message", () => {
  it("a serialization failure is transient even when its message reads like a constraint", async () => {
    const error = await caught(() =>
      pg().unsafe(
        `do $$ begin raise exception using errcode = '40001', message = 'UNIQUE constraint failed: looks permanent'; end $$`,
      ),
    );
    expect(classifyPgError(error)).toMatchObject({ code: "SUPABASE_UNAVAILABLE", retryable: true });
  });

  it("a unique violation is permanent even when its message reads like an outage", async () => {
    const error = await caught(() =>
      pg().unsafe(`do $$ begin raise exception using errcode = '23505', message = 'connection reset by peer'; end $$`),
    );
    expect(classifyPgError(error)).toMatchObject({ code: "UNIQUE_VIOLATION", retryable: false, status: 422 });
  });

  it("a division by zero is a data exception", async () => {
    expect(classifyPgError(await caught(() => pg().unsafe("select 1/0")))).toMatchObject({
      code: "DATA_EXCEPTION",
      retryable: false,
    });
  });
});

describe("D1 errors carry only a message (read in d1-errors.ts)", () => {
  it("names the UNIQUE constraint a write broke", async () => {
    const first = emailRow({ message_id: `<${crypto.randomUUID()}@crm.test>` });
    await insertEmail(first).run();
    const sameId = await caught(() => env.DB.batch([insertEmail({ ...first, message_id: null })]));
    expect(d1UniqueViolation(sameId)).toEqual(["emails.id"]);
    const sameMessageId = await caught(() => env.DB.batch([insertEmail(emailRow({ message_id: first.message_id }))]));
    expect(d1UniqueViolation(sameMessageId)).toEqual(["emails.message_id"]);
    expect(classifyD1Error(sameMessageId)).toMatchObject({ code: "D1_REJECTED", retryable: false });
    expect(d1UniqueViolation(new Error("D1_ERROR: Network connection lost."))).toBeNull();
  });

  it("reads the code our triggers raise", async () => {
    const row = emailRow({ status: "pending", sent_at: null });
    await insertEmail(row).run();
    const error = await caught(() =>
      env.DB.prepare("UPDATE emails SET status = 'replied', version = version + 1 WHERE id = ?1").bind(row.id).run(),
    );
    expect(d1TriggerCode(error)).toBe("INVALID_TRANSITION");
    expect(classifyD1Error(error)).toMatchObject({ code: "D1_REJECTED", retryable: false });
    expect(classifyD1Error(new Error("D1_ERROR: Network connection lost."))).toMatchObject({
      code: "D1_UNAVAILABLE",
      retryable: true,
    });
  });
});
