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
.hubspot-callback { background: #fff; padding: 1rem 1.25rem; border-radius: .5rem; border: 1px solid #d0d4da; max-width: 48rem; }
`;
