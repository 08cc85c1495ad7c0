/** @jsxImportSource hono/jsx */
import { DIRECTIONS, RANGES, type Direction, type MetricsSeries, type Range } from "../../../services/metrics-series";
import { Layout } from "../layout";
import type { ConsoleSession } from "../session";
import { staticUrl } from "../static/assets";
import { lagText, pointTime } from "./format";

/** How often the charts and their numbers are fetched again while the page is open. */
export const CHARTS_REFRESH_SECONDS = 10;

const numbersUrl = (range: Range, queue: Direction) => `/console/charts/numbers?range=${range}&direction=${queue}`;
export const dataUrl = (range: Range) => `/console/charts/data?range=${range}`;

/**
 * The charts of one range, per direction: events (applied, stale, failed) and lag p50/p99. Each
 * chart is drawn by console.js with uPlot from /console/charts/data; its text alternative (a
 * summary and a table of the same numbers) is server-rendered and refreshed as a data-live
 * fragment, so the page says everything without script too.
 */
export function ChartsPage(props: { range: Range; series: MetricsSeries; session: ConsoleSession }) {
  const { range } = props;
  return (
    <Layout title="Charts" section="charts" session={props.session}>
      <link rel="stylesheet" href={staticUrl("uplot.css")} />
      <script src={staticUrl("uplot.js")} defer></script>
      <nav class="ranges" aria-label="Time range">
        <ul>
          {(Object.keys(RANGES) as Range[]).map((r) => (
            <li>
              <a href={`/console/charts?range=${r}`} aria-current={r === range ? "page" : undefined}>
                {RANGES[r].label[0]!.toUpperCase() + RANGES[r].label.slice(1)}, per {RANGES[r].per}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {DIRECTIONS.map(({ queue, label }) => (
        <section class="direction-charts" aria-labelledby={`charts-${queue}`}>
          <h2 id={`charts-${queue}`}>
            {label} <span class="muted">({queue})</span>
          </h2>
          <div class="chart-row">
            <ChartFigure range={range} queue={queue} kind="events" title={`Events per ${RANGES[range].per}`} />
            <ChartFigure range={range} queue={queue} kind="lag" title="Lag from commit to applied (p50, p99)" />
          </div>
          <div
            class="chart-numbers"
            id={`numbers-${queue}`}
            data-live={numbersUrl(range, queue)}
            data-live-seconds={String(CHARTS_REFRESH_SECONDS)}
          >
            <DirectionNumbers series={props.series} queue={queue} />
          </div>
        </section>
      ))}
      <p class="muted">
        Applied: events written to the replica. Stale: duplicates and events the replica already had a newer version of.
        Failed: failed attempts (each retry counts). Lag is measured from the row's commit at its source to the moment
        the batch was applied, in buckets: "≤ 2 s" means between 1 and 2 s.
      </p>
    </Layout>
  );
}

function ChartFigure(props: { range: Range; queue: Direction; kind: "events" | "lag"; title: string }) {
  const id = `chart-${props.queue}-${props.kind}`;
  return (
    <figure class="chart-figure">
      <figcaption id={`${id}-caption`}>{props.title}</figcaption>
      <div
        class="chart"
        id={id}
        role="img"
        aria-labelledby={`${id}-caption`}
        aria-describedby={`numbers-${props.queue}`}
        data-chart={props.kind}
        data-chart-direction={props.queue}
        data-chart-src={dataUrl(props.range)}
        data-live-seconds={String(CHARTS_REFRESH_SECONDS)}
      >
        <p class="chart-placeholder muted">The chart needs JavaScript; the numbers are below.</p>
      </div>
    </figure>
  );
}

/** The text alternative of one direction's charts: a summary in words and the table of every point. */
export function DirectionNumbers(props: { series: MetricsSeries; queue: Direction }) {
  const { series, queue } = props;
  const d = series.directions[queue];
  const { label, per } = RANGES[series.range];
  const withDate = series.range === "day";
  const busiest = d.applied.reduce((best, n, i) => (n > (d.applied[best] ?? 0) ? i : best), 0);
  return (
    <>
      <p class="chart-summary">
        <strong>{label[0]!.toUpperCase() + label.slice(1)}:</strong> {d.total.applied} applied, {d.total.stale} stale,{" "}
        {d.total.failed} failed; lag p50 {lagText(d.total.p50)}, p99 {lagText(d.total.p99)}.
        {d.total.applied > 0
          ? ` Busiest ${per}: ${pointTime(series.times[busiest]!, withDate)} UTC with ${d.applied[busiest]} applied.`
          : ""}{" "}
        <span class="muted">
          Data{" "}
          <time datetime={series.generatedAt} data-age="">
            updated at {series.generatedAt.slice(11, 19)} UTC
          </time>
        </span>
      </p>
      <details id={`table-${queue}-${series.range}`}>
        <summary>The numbers per {per} (table)</summary>
        {/* Scrolls by itself on a narrow screen, so the page never scrolls sideways. */}
        <div class="table-scroll" tabindex={0} role="region" aria-label={`${queue} numbers table`}>
          <table class="chart-table">
            <caption>
              {queue}, {label}, per {per} (UTC)
            </caption>
            <thead>
              <tr>
                <th scope="col">{per === "minute" ? "Minute" : "Hour"}</th>
                <th scope="col">Applied</th>
                <th scope="col">Stale</th>
                <th scope="col">Failed</th>
                <th scope="col">Lag p50</th>
                <th scope="col">Lag p99</th>
              </tr>
            </thead>
            <tbody>
              {series.times.map((t, i) => (
                <tr>
                  <th scope="row">{pointTime(t, withDate)}</th>
                  <td>{d.applied[i]}</td>
                  <td>{d.stale[i]}</td>
                  <td>{d.failed[i]}</td>
                  <td>{lagText(d.p50[i] ?? null)}</td>
                  <td>{lagText(d.p99[i] ?? null)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}
