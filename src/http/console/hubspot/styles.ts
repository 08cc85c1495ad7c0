/** The HubSpot section's rules, appended to CONSOLE_CSS. A link that starts a flow looks like a button. */
export const HUBSPOT_CSS = `
a.button { display: inline-block; font: inherit; padding: .45rem .9rem; border-radius: .3rem; border: 1px solid #1b1f24; background: #fff; color: #1b1f24; text-decoration: none; }
a.button.primary { background: #0b57d0; border-color: #0b57d0; color: #fff; }
a.button:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.action-form h4 { margin: .5rem 0 0; font-size: 1rem; }
.sync-form { margin: .5rem 0 1rem; }
.hubspot-status .badge { margin-right: .35rem; }
.hubspot-facts { display: grid; grid-template-columns: auto 1fr; gap: .2rem .75rem; margin: .5rem 0 1rem; }
.hubspot-facts dt { color: #4a525c; }
.hubspot-facts dd { margin: 0; overflow-wrap: anywhere; }
.event-feed { list-style: none; padding: 0; margin: .5rem 0 0; max-height: 24rem; overflow-y: auto; }
.event-feed .event { padding: .3rem 0; border-bottom: 1px solid #eaeef2; overflow-wrap: anywhere; }
.event-name { display: inline-block; font-family: ui-monospace, monospace; font-size: .85rem; padding: 0 .4rem; border-radius: .25rem; background: #eaeef2; color: #424a53; }
.event[data-event="sync:start"] .event-name { background: #fff8c5; color: #7d4e00; }
.event[data-event="sync:complete"] .event-name { background: #dafbe1; color: #116329; }
.event[data-event="sync:error"] .event-name { background: #ffebe9; color: #a40e26; }
.event[data-event="connection:status"] .event-name { background: #ddf4ff; color: #0a3069; }
.hubspot-callback { background: #fff; padding: 1rem 1.25rem; border-radius: .5rem; border: 1px solid #d0d4da; max-width: 48rem; }
`;
