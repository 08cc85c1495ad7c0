import { CONSISTENCY_CSS } from "./consistency/styles";
import { FAILURES_CSS } from "./failures/styles";
import { CHARTS_CSS } from "./charts/styles";
import { HUBSPOT_CSS } from "./hubspot/styles";

/**
 * The console's only stylesheet, served from the bundle at /console/static/console.css (the CSP
 * forbids inline styles). State colours always come with the state's name in words.
 */
export const CONSOLE_CSS = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.4; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1b1f24; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; padding: .75rem 1rem; background: #1b1f24; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
header form { display: flex; gap: .5rem; align-items: center; margin: 0; }
nav { background: #2b3138; padding: 0 1rem; overflow-x: auto; }
nav ul { display: flex; gap: .25rem; margin: 0 auto; padding: 0; list-style: none; max-width: 80rem; }
nav a { display: block; padding: .5rem .6rem; color: #e6e9ed; text-decoration: none; white-space: nowrap; }
nav a[aria-current="page"] { color: #fff; font-weight: 600; box-shadow: inset 0 -3px 0 #f0a500; }
nav a:focus-visible { outline: 3px solid #f0a500; outline-offset: -3px; }
main { padding: 1rem; max-width: 80rem; margin: 0 auto; }
a { color: #0b57d0; }
button { font: inherit; padding: .45rem .9rem; border-radius: .3rem; border: 1px solid #1b1f24; background: #fff; color: #1b1f24; cursor: pointer; }
button.primary { background: #0b57d0; border-color: #0b57d0; color: #fff; }
button:focus-visible, input:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.summary { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: baseline; margin-bottom: 1rem; }
.summary p { margin: 0; }
.cards { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); padding: 0; margin: 0; list-style: none; }
.card { background: #fff; border-radius: .5rem; border: 1px solid #d0d4da; border-left-width: .5rem; padding: .75rem 1rem; }
.card h2 { font-size: 1.05rem; margin: 0 0 .25rem; display: flex; justify-content: space-between; gap: .5rem; flex-wrap: wrap; }
.card .direction { margin: 0 0 .5rem; color: #4a525c; }
.card dl { display: grid; grid-template-columns: auto 1fr; gap: .2rem .75rem; margin: 0; }
.card dt { color: #4a525c; }
.card dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
.card ul.reasons { margin: .5rem 0 0; padding-left: 1.1rem; color: #7a2e00; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85rem; font-weight: 600; border: 1px solid currentColor; }
.state-fresh { border-left-color: #1a7f37; } .badge.state-fresh { color: #116329; background: #dafbe1; }
.state-stale { border-left-color: #bf8700; } .badge.state-stale { color: #7d4e00; background: #fff8c5; }
.state-very-stale { border-left-color: #d1242f; } .badge.state-very-stale { color: #a40e26; background: #ffebe9; }
.state-warning { border-left-color: #bc4c00; } .badge.state-warning { color: #953800; background: #fff1e5; }
.state-error { border-left-color: #82071e; } .badge.state-error { color: #fff; background: #82071e; }
.state-no-replica { border-left-color: #6e7781; } .badge.state-no-replica { color: #424a53; background: #eaeef2; }
.health-reasons { margin: 0 0 1rem; padding: .75rem 1rem .75rem 2rem; background: #fff1e5; border: 1px solid #bc4c00; border-radius: .5rem; }
.circuits { display: flex; flex-wrap: wrap; gap: .5rem; padding: 0; margin: 0; list-style: none; }
.login { max-width: 26rem; margin: 2rem auto; background: #fff; padding: 1.25rem; border-radius: .5rem; border: 1px solid #d0d4da; }
.login label { display: block; font-weight: 600; margin-top: .75rem; }
.login .hint { display: block; color: #4a525c; font-size: .9rem; }
.login input { display: block; width: 100%; font: inherit; padding: .45rem; margin-top: .25rem; border: 1px solid #8c959f; border-radius: .3rem; }
.login button { margin-top: 1rem; }
.login-error { max-width: 26rem; margin: 2rem auto 0; }
.error-page { background: #fff; padding: 1rem 1.25rem; border-radius: .5rem; border: 1px solid #d0d4da; max-width: 48rem; }
.error { color: #a40e26; background: #ffebe9; border: 1px solid #d1242f; padding: .5rem .75rem; border-radius: .3rem; }
.muted { color: #4a525c; }
${FAILURES_CSS}
${CONSISTENCY_CSS}
${CHARTS_CSS}
${HUBSPOT_CSS}
`;
