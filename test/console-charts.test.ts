import { env, SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { LAG_BOUNDS_MS, LAG_COLUMNS, lagBucket } from "../core/metrics/lag-histogram";
import { CONSOLE_CSP } from "../src/http/console/routes";
import { newSession, sealSession, SESSION_COOKIE } from "../src/http/console/session";

const ORIGIN = "https://worker.test";

async function sessionCookie(): Promise<string> {
  return `${SESSION_COOKIE}=${await sealSession(env, newSession("carla@ops", "admin-token", new Date()))}`;
}

const get = (path: string, cookie?: string) =>
  SELF.fetch(`${ORIGIN}${path}`, { headers: cookie ? { cookie } : {}, redirect: "manual" });

/** One metrics row as the consumer writes it: counts and the lag of each applied event. */
async function insertBucket(
  span: number,
  bucketStart: number,
  queue: string,
  entity: string,
  counts: { applied: number; stale: number; failed: number },
  lagsMs: number[],
) {
  const lag = LAG_COLUMNS.map(() => 0);
  for (const ms of lagsMs) lag[lagBucket(ms)]!++;
  await env.DB.prepare(
    `INSERT INTO sync_metrics (span, bucket_start, queue, entity, applied, stale, failed, ${LAG_COLUMNS.join(", ")})
     VALUES (?, ?, ?, ?, ?, ?, ?, ${LAG_COLUMNS.map(() => "?").join(", ")})`,
  )
    .bind(span, bucketStart, queue, entity, counts.applied, counts.stale, counts.failed, ...lag)
    .run();
}

type ChartJson = {
  range: string;
  times: number[];
  directions: Record<
    string,
    {
      applied: number[];
      stale: number[];
      failed: number[];
      p50: Array<number | null>;
      p99: Array<number | null>;
      total: Record<string, number | null>;
    }
  >;
};

const minute = () => Math.floor(Date.now() / 60_000) * 60;

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM sync_metrics").run();
});

describe("console charts: access", () => {
  it("every charts page, data, fragment and the overview fragment need a session", async () => {
    for (const path of [
      "/console/charts",
      "/console/charts?range=day",
      "/console/charts/data?range=hour",
      "/console/charts/numbers?range=hour&direction=to-d1",
      "/console/live/overview",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location"), path).toBe("/console/login");
      expect(res.headers.get("content-security-policy"), path).toBe(CONSOLE_CSP);
    }
  });

  it("serves console.js, uPlot's script and stylesheet from the bundle without a session", async () => {
    const files = {
      "console.js": ["text/javascript; charset=utf-8", "data-live"],
      "uplot.js": ["text/javascript; charset=utf-8", "uPlot"],
      "uplot.css": ["text/css; charset=utf-8", ".uplot"],
    } as const;
    for (const [name, [type, marker]] of Object.entries(files)) {
      const res = await get(`/console/static/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get("content-type"), name).toBe(type);
      expect(res.headers.get("x-content-type-options"), name).toBe("nosniff");
      expect(await res.text(), name).toContain(marker);
    }
    // Any other path is a console page like the rest: behind the session check.
    expect((await get("/console/static/nothing.js")).status).toBe(303);
  });

  it("pages load static files at their content's version, cached for a year; any other version briefly", async () => {
    const page = await (await get("/console/login")).text();
    const css = page.match(/href="(\/console\/static\/console\.css\?v=([0-9a-z]+))"/);
    expect(css, "the login page links the versioned stylesheet").not.toBeNull();
    const current = await get(css![1]!);
    expect(current.status).toBe(200);
    expect(current.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    // A page from before a deploy asks for an old version: it gets today's file, not kept long.
    for (const stale of ["/console/static/console.css?v=old", "/console/static/console.css"]) {
      const res = await get(stale);
      expect(res.status, stale).toBe(200);
      expect(res.headers.get("cache-control"), stale).toBe("public, max-age=300");
      expect(await res.text(), stale).toBe(await current.clone().text());
    }
  });
});

describe("console charts: numbers from sync_metrics", () => {
  it("the data endpoint returns per-minute series computed from the rows, per direction", async () => {
    const cookie = await sessionCookie();
    const t = minute() - 5 * 60;
    // Two entities in one minute of to-d1 sum up; to-supabase has its own series.
    await insertBucket(60, t, "to-d1", "prospects", { applied: 8, stale: 1, failed: 0 }, [
      ...Array(7).fill(800),
      30_000,
    ]);
    await insertBucket(60, t, "to-d1", "campaigns", { applied: 2, stale: 0, failed: 3 }, [900, 900]);
    await insertBucket(
      60,
      t - 60,
      "to-supabase",
      "emails",
      { applied: 4, stale: 0, failed: 1 },
      [3_000, 3_000, 3_000, 3_000],
    );
    // Two hours ago: outside the last hour, inside the day.
    await insertBucket(
      3600,
      t - 3 * 3600 - (t % 3600),
      "to-d1",
      "prospects",
      { applied: 100, stale: 0, failed: 0 },
      [],
    );

    const res = await get("/console/charts/data?range=hour", cookie);
    expect(res.status).toBe(200);
    const hour = (await res.json()) as ChartJson;
    expect(hour.times).toHaveLength(60);
    const i = hour.times.indexOf(t);
    expect(i).toBeGreaterThan(0);
    const d1 = hour.directions["to-d1"]!;
    expect([d1.applied[i], d1.stale[i], d1.failed[i]]).toEqual([10, 1, 3]);
    // 10 lags: nine ≤ 1 s, one ≤ 50 s → p50 ≤ 1 s, p99 (rank 10) ≤ 50 s.
    expect([d1.p50[i], d1.p99[i]]).toEqual([1, 50]);
    expect(d1.applied.reduce((a, b) => a + b, 0)).toBe(10);
    expect(d1.p50.filter((p) => p !== null)).toHaveLength(1);
    const supabase = hour.directions["to-supabase"]!;
    expect([supabase.applied[i - 1], supabase.failed[i - 1], supabase.p99[i - 1]]).toEqual([4, 1, 5]);
    expect(supabase.total).toMatchObject({ applied: 4, failed: 1, p50: 5, p99: 5 });

    const day = (await (await get("/console/charts/data?range=day", cookie)).json()) as ChartJson;
    expect(day.times).toHaveLength(24);
    expect(day.directions["to-d1"]!.total).toMatchObject({ applied: 110, stale: 1, failed: 3 });
    expect(day.directions["to-d1"]!.applied[day.times.indexOf(t - (t % 3600))]).toBe(10);
  });

  it("an event whose lag is over the last bucket shows as 'over' in words and at the top bound in the chart", async () => {
    const cookie = await sessionCookie();
    await insertBucket(60, minute() - 120, "to-d1", "prospects", { applied: 1, stale: 0, failed: 0 }, [2e8]);
    const json = (await (await get("/console/charts/data", cookie)).json()) as ChartJson;
    expect(json.directions["to-d1"]!.total.p99).toBe(LAG_BOUNDS_MS[LAG_BOUNDS_MS.length - 1]! / 1000);
    const html = await (await get("/console/charts/numbers?direction=to-d1", cookie)).text();
    expect(html).toContain("p99 over 27.8 h");
  });

  it("the numbers fragment is the text alternative: a summary in words and a table of every point", async () => {
    const cookie = await sessionCookie();
    const t = minute() - 10 * 60;
    await insertBucket(60, t, "to-d1", "prospects", { applied: 12, stale: 2, failed: 1 }, Array(12).fill(1_500));
    const res = await get("/console/charts/numbers?range=hour&direction=to-d1", cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain("<html");
    expect(html).toContain("12 applied, 2 stale, 1 failed; lag p50 ≤ 2 s, p99 ≤ 2 s.");
    const hhmm = new Date(t * 1000).toISOString().slice(11, 16);
    expect(html).toContain(`Busiest minute: ${hhmm} UTC with 12 applied.`);
    expect(html.match(/<tr>/g)).toHaveLength(61); // header + 60 minutes
    expect(html).toContain(`<th scope="row">${hhmm}</th><td>12</td><td>2</td><td>1</td><td>≤ 2 s</td><td>≤ 2 s</td>`);
    expect(html).toMatch(/<time datetime="\d{4}-[^"]+" data-age="">/);
    expect((await get("/console/charts/numbers?direction=sideways", cookie)).status).toBe(400);
  });

  it("the charts page holds a chart and its numbers per direction, with no inline script or style", async () => {
    const cookie = await sessionCookie();
    await insertBucket(
      60,
      minute() - 60,
      "to-supabase",
      "emails",
      { applied: 3, stale: 0, failed: 0 },
      [100, 100, 100],
    );
    const res = await get("/console/charts", cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const queue of ["to-d1", "to-supabase"]) {
      expect(html).toContain(`data-chart="events" data-chart-direction="${queue}"`);
      expect(html).toContain(`data-chart="lag" data-chart-direction="${queue}"`);
      expect(html).toContain(`data-live="/console/charts/numbers?range=hour&amp;direction=${queue}"`);
    }
    expect(html).toContain("3 applied, 0 stale, 0 failed; lag p50 ≤ 100 ms, p99 ≤ 100 ms.");
    expect(html).toMatch(/<script src="\/console\/static\/uplot\.js\?v=[0-9a-z]+" defer="">/);
    expect(html).toMatch(/<script src="\/console\/static\/console\.js\?v=[0-9a-z]+" defer="">/);
    expect(html).not.toMatch(/style=/);
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).toContain('aria-current="page">Last hour, per minute');
    expect(await (await get("/console/charts?range=day", cookie)).text()).toContain(
      'aria-current="page">Last 24 hours, per hour',
    );
  });
});

describe("console overview: live fragment", () => {
  it("the overview polls its status region instead of reloading, and the fragment is that region alone", async () => {
    const cookie = await sessionCookie();
    const page = await (await get("/console", cookie)).text();
    expect(page).not.toContain('http-equiv="refresh"');
    expect(page).toContain('data-live="/console/live/overview" data-live-seconds="15"');
    const res = await get("/console/live/overview", cookie);
    expect(res.status).toBe(200);
    const fragment = await res.text();
    expect(fragment).not.toContain("<html");
    expect(fragment).toContain('id="entity-prospects"');
    expect(fragment).toMatch(/Data <time datetime="\d{4}-[^"]+" data-age="">updated at /);
  });
});
