/**
 * The consistency and audit sections' rules, appended to CONSOLE_CSS (the one stylesheet). Tables
 * scroll inside their own box so the page stays 360 px wide; states keep their words.
 */
export const CONSISTENCY_CSS = `
.panel { background: #fff; border: 1px solid #d0d4da; border-radius: .5rem; padding: .75rem 1rem; margin-bottom: 1rem; }
.panel h3 { margin: 0 0 .5rem; font-size: 1.1rem; }
.action-form { display: grid; gap: .35rem; max-width: 36rem; margin: .5rem 0 1rem; }
.action-form label { font-weight: 600; }
.action-form fieldset { border: 1px solid #d0d4da; border-radius: .3rem; padding: .4rem .75rem; margin: .25rem 0; }
.action-form fieldset label, .action-form label.check { font-weight: normal; display: block; margin: .2rem 0; }
.action-form input[type="text"], .action-form select { font: inherit; padding: .4rem; border: 1px solid #8c959f; border-radius: .3rem; width: 100%; }
.action-form details { margin: .25rem 0; }
.action-form details label { display: block; margin-top: .35rem; }
.action-form summary { cursor: pointer; }
.action-form summary:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.action-form button { justify-self: start; margin-top: .25rem; }
select:focus-visible, input[type="radio"]:focus-visible, input[type="checkbox"]:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.table-wrap { overflow-x: auto; max-width: 100%; }
.table-wrap table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.table-wrap caption { text-align: left; padding: .25rem 0; }
.table-wrap > p { margin: .5rem 0 .25rem; position: sticky; left: 0; }
.table-wrap th, .table-wrap td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e1e4e8; vertical-align: top; white-space: nowrap; }
.table-wrap td.wrap { white-space: normal; min-width: 8rem; overflow-wrap: anywhere; }
.run { border-top: 1px solid #e1e4e8; padding: .5rem 0; }
.run h4 { margin: 0 0 .25rem; display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; }
.diffs dt { font-weight: 600; margin-top: .25rem; }
.diffs dd { margin: 0; }
.ids { list-style: none; padding: 0; margin: .2rem 0; display: flex; flex-wrap: wrap; gap: .25rem .75rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; overflow-wrap: anywhere; }
.example { margin-right: .5rem; }
.problems { color: #7a2e00; padding-left: 1.1rem; }
.backfills { list-style: none; padding: 0; margin: 0; display: grid; gap: .6rem; }
.backfills li { display: grid; gap: .2rem; }
.backfills progress { width: 100%; max-width: 36rem; height: 1.1rem; }
.filters { display: grid; gap: .75rem 1rem; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); align-items: start; }
.filters label { display: block; font-weight: 600; }
.filters input, .filters select { font: inherit; padding: .4rem; border: 1px solid #8c959f; border-radius: .3rem; width: 100%; }
.filters .hint { display: block; font-size: .85rem; }
.filter-buttons { display: flex; gap: 1rem; align-items: center; align-self: end; }
.pager { display: flex; flex-wrap: wrap; gap: 1rem; margin: .75rem 0; }
`;
