import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import wranglerToml from "../wrangler.toml?raw";
import devVarsExample from "../.dev.vars.example?raw";
import { readSettings, SETTINGS, type SettingName } from "../core/settings";

/** `NAME = "value"` lines of one TOML table (enough for [vars]: flat string values only). */
function tomlTable(toml: string, table: string): Record<string, string> {
  const body = toml.split(/^\[/m).find((section) => section.startsWith(`${table}]`)) ?? "";
  return Object.fromEntries([...body.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1]!, m[2]!]));
}

const vars = tomlTable(wranglerToml, "vars");
const defaults = Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, s.default]));

describe("settings", () => {
  it("wrangler.toml's [vars] states every setting with its default from core/settings.ts", () => {
    const stated = Object.fromEntries(Object.keys(SETTINGS).map((name) => [name, vars[name]]));
    expect(stated).toEqual(Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, String(value)])));
  });

  it("the worker, configured by wrangler.toml, runs with the defaults", () => {
    expect(readSettings(env)).toEqual(defaults);
  });

  it("an unset or unusable var falls back to the default", () => {
    expect(readSettings({})).toEqual(defaults);
    const unusable: Record<SettingName, string> = {
      SWEEP_GRACE_SECONDS: "",
      RECONCILE_GRACE_SECONDS: "-5",
      REPLAY_QUARANTINE_AFTER: "three",
      FAILED_TASK_PAYLOAD_RETENTION_DAYS: "Infinity",
      REQUIRE_OPERATOR_TOKENS: "yes",
      METRICS_MINUTE_RETENTION_HOURS: "NaN",
      METRICS_HOUR_RETENTION_DAYS: "-30",
      HUBSPOT_LOG_RETENTION_DAYS: "ninety",
      HUBSPOT_API_BASE: "ftp://api.hubapi.com",
      HUBSPOT_AUTH_BASE: "app.hubspot.com",
      HUBSPOT_RATE_LIMIT: "",
      HUBSPOT_INCREMENTAL_INTERVAL_SECONDS: "-1",
      HUBSPOT_PAGES_PER_STEP: "x",
      HUBSPOT_EVENT_STREAM_SECONDS: "-25",
    };
    expect(readSettings(unusable)).toEqual(defaults);
    expect(readSettings({ SWEEP_GRACE_SECONDS: "2", REQUIRE_OPERATOR_TOKENS: " TRUE " })).toMatchObject({
      SWEEP_GRACE_SECONDS: 2,
      REQUIRE_OPERATOR_TOKENS: true,
    });
    expect(readSettings({ HUBSPOT_API_BASE: "http://127.0.0.1:8790/" }).HUBSPOT_API_BASE).toBe("http://127.0.0.1:8790");
  });

  it("no secret named in .dev.vars.example has a value in wrangler.toml", () => {
    const declared = [...devVarsExample.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    expect(declared).toContain("ADMIN_TOKEN");
    expect(declared.filter((name) => name in vars)).toEqual([]);
  });
});
