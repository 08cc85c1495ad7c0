/**
 * The Failures and Replays sections' styles, appended to CONSOLE_CSS. Statuses are always written
 * in words; the badge colours only repeat them. Tables turn into labelled stacks below 40rem, so
 * they read at 360 px without sideways scrolling (each cell's data-label names its column).
 */
export const FAILURES_CSS = `
.notice { color: #116329; background: #dafbe1; border: 1px solid #1a7f37; padding: .5rem .75rem; border-radius: .3rem; }
.panel { background: #fff; border: 1px solid #d0d4da; border-radius: .5rem; padding: .75rem 1rem; margin: 1rem 0; }
.panel h3 { margin-top: 0; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: 0 0 1rem; }
.filters label { display: flex; flex-direction: column; font-weight: 600; gap: .2rem; }
select, textarea, .stack input[type="text"], .stack input[type="number"] { font: inherit; padding: .4rem; border: 1px solid #8c959f; border-radius: .3rem; background: #fff; max-width: 100%; }
select:focus-visible, textarea:focus-visible, a:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
textarea { display: block; width: 100%; margin: .25rem 0 .5rem; }
.panel label { font-weight: 600; }
.stack .field { margin: 0 0 .75rem; display: flex; flex-direction: column; gap: .2rem; max-width: 36rem; }
.stack .field.check { flex-direction: row; align-items: center; gap: .5rem; }
.hint { color: #4a525c; font-size: .9rem; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
a.button { display: inline-block; padding: .45rem .9rem; border-radius: .3rem; border: 1px solid #1b1f24; background: #fff; color: #1b1f24; text-decoration: none; }
a.button.primary { background: #0b57d0; border-color: #0b57d0; color: #fff; }
table.rows { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #d0d4da; }
table.rows th, table.rows td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
table.rows th { background: #eaeef2; font-weight: 600; }
table.rows td.num { text-align: right; font-variant-numeric: tabular-nums; }
.message, code { overflow-wrap: break-word; }
/* A font list, not bare monospace: Chromium shrinks a lone "monospace" to 13px. */
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: .9em; }
.facts { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: .3rem 1rem; margin: 0 0 1rem; }
.facts dt { color: #4a525c; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.counts dd { font-variant-numeric: tabular-nums; font-weight: 600; }
pre.event { background: #1b1f24; color: #e6e9ed; padding: .75rem; border-radius: .4rem; overflow: auto; max-height: 32rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.pager { display: flex; gap: 1rem; margin: .5rem 0; }
progress { width: min(24rem, 100%); height: 1rem; vertical-align: middle; }
.badge.group-open, .badge.task-open, .badge.task-quarantined, .badge.job-failed { color: #a40e26; background: #ffebe9; }
.badge.group-acknowledged, .badge.task-replaying, .badge.job-running { color: #7d4e00; background: #fff8c5; }
.badge.group-resolved, .badge.task-resolved, .badge.task-superseded, .badge.job-completed { color: #116329; background: #dafbe1; }
.badge.group-ignored, .badge.job-cancelled { color: #424a53; background: #eaeef2; }
@media (max-width: 40rem) {
  table.rows, table.rows tbody, table.rows tr, table.rows td { display: block; width: 100%; }
  table.rows thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.rows tr { border-bottom: 2px solid #d0d4da; padding: .25rem 0; }
  table.rows td { border: 0; padding: .15rem .6rem; }
  table.rows td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: #4a525c; }
  table.rows td.num { text-align: left; }
  .facts { grid-template-columns: 1fr; gap: 0 1rem; }
  .facts dd { margin-bottom: .4rem; }
  .facts.counts { grid-template-columns: auto 1fr; }
  .facts.counts dd { margin-bottom: 0; }
}
`;
