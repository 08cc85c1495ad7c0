import { describe, expect, it } from "vitest";
import { prospects } from "../schemas/entities/prospects";
import { MAX_INSTANT, MIN_INSTANT, parseInstant, text, utcTimestamp } from "../schemas/fields";

const ts = utcTimestamp();
const ok = (s: string) => ts.parse(s);
const problem = (s: string) => {
  const r = ts.safeParse(s);
  expect(r.success, `${s} should be refused`).toBe(false);
  return r.error!.issues[0]!.message;
};

describe("the timestamp rule (schemas/fields.ts)", () => {
  it("normalises valid instants with an explicit zone to UTC with milliseconds and Z", () => {
    expect(ok("2025-03-01T09:00:00Z")).toBe("2025-03-01T09:00:00.000Z");
    expect(ok("2025-03-01T09:00:00+01:00")).toBe("2025-03-01T08:00:00.000Z");
    expect(ok("2025-03-01T09:00-05:30")).toBe("2025-03-01T14:30:00.000Z");
    // Postgres's own text renderings of timestamptz.
    expect(ok("2025-12-13 10:30:00.12+00")).toBe("2025-12-13T10:30:00.120Z");
    expect(ok("2025-12-13T10:30:00.123456+0000")).toBe("2025-12-13T10:30:00.123Z");
    // Leap years: 2024 and 2000 have 29 February.
    expect(ok("2024-02-29T00:00:00Z")).toBe("2024-02-29T00:00:00.000Z");
    expect(ok("2000-02-29T12:00:00Z")).toBe("2000-02-29T12:00:00.000Z");
    // The ends of the range, also reached through an offset.
    expect(ok("0001-01-01T00:00:00Z")).toBe(MIN_INSTANT);
    expect(ok("9999-12-31T23:59:59.999Z")).toBe(MAX_INSTANT);
    expect(ok("9999-12-31T23:59:59.999+01:00")).toBe("9999-12-31T22:59:59.999Z");
    expect(ok("0001-01-01T00:30:00-00:30")).toBe("0001-01-01T01:00:00.000Z");
    // Years 1-99 are not shifted to 1900-1999 (Date.UTC would).
    expect(ok("0050-06-15T00:00:00Z")).toBe("0050-06-15T00:00:00.000Z");
  });

  it("refuses impossible calendar dates and times instead of rolling them over", () => {
    expect(problem("2025-02-30T00:00:00Z")).toBe("2025-02 has no day 30");
    expect(problem("2025-02-29T00:00:00Z")).toBe("2025-02 has no day 29"); // not a leap year
    expect(problem("1900-02-29T00:00:00Z")).toBe("1900-02 has no day 29"); // divisible by 100, not by 400
    expect(problem("2025-04-31T00:00:00Z")).toMatch(/no day 31/);
    expect(problem("2025-13-01T00:00:00Z")).toMatch(/month 13/);
    expect(problem("2025-00-10T00:00:00Z")).toMatch(/month 00/);
    expect(problem("2025-01-00T00:00:00Z")).toMatch(/no day 00/);
    expect(problem("2025-01-01T24:00:00Z")).toMatch(/not a time of day/);
    expect(problem("2025-01-01T23:60:00Z")).toMatch(/not a time of day/);
    expect(problem("2025-01-01T23:59:60Z")).toMatch(/not a time of day/);
  });

  it("refuses instants outside 0001-01-01 … 9999-12-31 once the offset is applied", () => {
    expect(problem("9999-12-31T23:59-01:00")).toMatch(/outside 0001-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z/);
    expect(problem("0001-01-01T00:00:00+00:01")).toMatch(/outside/);
    expect(problem("0000-06-01T00:00:00Z")).toMatch(/year 0000 does not exist/);
    expect(problem("10000-01-01T00:00:00Z")).toMatch(/must be an ISO 8601 timestamp with a zone/);
    expect(problem("+010000-01-01T00:00:00.000Z")).toMatch(/must be an ISO 8601 timestamp/);
    expect(problem("2025-01-01T00:00:00+16:00")).toMatch(/offset \+16:00 is out of range/);
  });

  it("refuses infinity, missing zones and other shapes", () => {
    for (const s of [
      "infinity",
      "-infinity",
      "Infinity",
      "2025-03-01T09:00:00",
      "2025-03-01",
      "2025-03-01T09Z",
      "1741510800000",
      "",
      "2025-03-01T09:00:00Z\u0000",
    ]) {
      expect(problem(s)).toMatch(/must be an ISO 8601 timestamp with a zone/);
    }
    expect(parseInstant("2025-03-01T09:00:00 Z")).toHaveProperty("problem");
  });

  it("text refuses NUL, and every entity row names the offending column", () => {
    expect(text().safeParse("a\u0000b").success).toBe(false);
    expect(text().safeParse("Zürich – ok").success).toBe(true);
    const row = {
      id: crypto.randomUUID(),
      name: "Hotel\u0000Bellevue",
      city: null,
      country: null,
      contact_name: null,
      contact_email: null,
      contact_title: null,
      phone: null,
      website: null,
      linkedin_url: null,
      stage: "new",
      tier: null,
      score: 0,
      lead_source: null,
      email_bounced: false,
      archived: false,
      created_at: "10000-01-01T00:00:00+00:00",
      updated_at: "2025-02-30T00:00:00Z",
      version: 1,
    };
    const r = prospects.row.safeParse(row);
    expect(r.success).toBe(false);
    const byField = Object.fromEntries(r.error!.issues.map((i) => [i.path.join("."), i.message]));
    expect(byField).toEqual({
      name: "must not contain the NUL character (\\u0000)",
      created_at: expect.stringMatching(/ISO 8601/),
      updated_at: "2025-02 has no day 30",
    });
  });
});
