/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { DIRECTIONS, metricsSeries, type Direction, type Range } from "../../../services/metrics-series";
import type { AppContext, AppEnv } from "../../context";
import { chartJson } from "./data";
import { ChartsPage, DirectionNumbers } from "./page";

/** An unknown range or direction falls back to the default view rather than failing the page. */
const rangeOf = (c: AppContext): Range => (c.req.query("range") === "day" ? "day" : "hour");
const directionOf = (c: AppContext): Direction | undefined =>
  DIRECTIONS.find((d) => d.queue === c.req.query("direction"))?.queue;

/** /console/charts (mounted after the session check in ../routes.tsx). */
export const chartsRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const range = rangeOf(c);
    const series = await metricsSeries(c.get("deps").db, range);
    return c.html(<ChartsPage range={range} series={series} session={c.get("consoleSession")!} />);
  })
  /** The series console.js draws. */
  .get("/data", async (c) => c.json(chartJson(await metricsSeries(c.get("deps").db, rangeOf(c)))))
  /** One direction's text alternative, as a data-live fragment. */
  .get("/numbers", async (c) => {
    const queue = directionOf(c);
    if (!queue) return c.text(`direction must be one of ${DIRECTIONS.map((d) => d.queue).join(", ")}`, 400);
    const series = await metricsSeries(c.get("deps").db, rangeOf(c));
    return c.html(<DirectionNumbers series={series} queue={queue} />);
  });
