/**
 * The charts page and the live updates (appended to CONSOLE_CSS). uPlot's own rules come from its
 * stylesheet (/console/static/uplot.css); chart sizes are set by console.js, never inline.
 */
export const CHARTS_CSS = `
nav.ranges { background: none; padding: 0; overflow: visible; }
.ranges ul { display: flex; flex-wrap: wrap; gap: .5rem; padding: 0; margin: 0 0 1rem; list-style: none; }
.ranges a { display: block; padding: .3rem .7rem; border: 1px solid #8c959f; border-radius: 1rem; text-decoration: none; color: #0b57d0; background: #fff; white-space: normal; }
.ranges a[aria-current="page"] { background: #0b57d0; border-color: #0b57d0; color: #fff; font-weight: 600; }
.ranges a:focus-visible, details summary:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.direction-charts { background: #fff; border: 1px solid #d0d4da; border-radius: .5rem; padding: .75rem 1rem; margin-bottom: 1rem; }
.direction-charts h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
.chart-row { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 26rem), 1fr)); }
.chart-figure { margin: 0; min-width: 0; }
.chart-figure figcaption { font-weight: 600; margin-bottom: .25rem; }
.chart { min-height: 240px; width: 100%; overflow: hidden; }
.chart .u-legend { font-size: .85rem; text-align: left; }
.chart-summary { margin: .5rem 0; }
.chart-numbers details { margin-bottom: .25rem; }
.chart-numbers summary { cursor: pointer; color: #0b57d0; }
.table-scroll { overflow-x: auto; max-width: 100%; }
.table-scroll:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.chart-table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin-top: .5rem; width: 100%; max-width: 40rem; }
.chart-table caption { text-align: left; color: #4a525c; padding-bottom: .25rem; }
.chart-table th, .chart-table td { border-bottom: 1px solid #d0d4da; padding: .15rem .4rem; text-align: right; white-space: nowrap; }
.chart-table th[scope="col"], .chart-table th[scope="row"] { text-align: left; }
.out-of-date { opacity: .6; }
.out-of-date-note { margin: 0 0 .5rem; padding: .4rem .75rem; color: #7d4e00; background: #fff8c5; border: 1px solid #bf8700; border-radius: .3rem; }
`;
