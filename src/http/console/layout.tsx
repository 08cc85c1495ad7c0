/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import type { ConsoleSession } from "./session";
import { staticUrl } from "./static/assets";

/** The console's sections, in the order of the navigation bar. Each is mounted in routes.tsx. */
export const SECTIONS = [
  { id: "overview", label: "Overview", href: "/console" },
  { id: "charts", label: "Charts", href: "/console/charts" },
  { id: "failures", label: "Failures", href: "/console/failures" },
  { id: "replays", label: "Replays", href: "/console/replays" },
  { id: "consistency", label: "Consistency", href: "/console/consistency" },
  { id: "audit", label: "Audit", href: "/console/audit" },
  { id: "hubspot", label: "HubSpot", href: "/console/hubspot" },
] as const;
export type SectionId = (typeof SECTIONS)[number]["id"];

/**
 * Every console page. `refresh` (seconds) reloads the whole page with a meta refresh, for pages
 * without forms being filled in; parts that change while a form is open poll instead (data-live).
 */
export function Layout(props: {
  title: string;
  section?: SectionId;
  refresh?: number;
  /** With `refresh`: where to go instead of reloading. */
  refreshTo?: string;
  session?: ConsoleSession;
  children: Child;
}) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {props.refresh ? (
            <meta
              http-equiv="refresh"
              content={props.refreshTo ? `${props.refresh}; url=${props.refreshTo}` : String(props.refresh)}
            />
          ) : null}
          <title>{props.title} · supabase-d1-sync console</title>
          <link rel="stylesheet" href={staticUrl("console.css")} />
          {/* Live updates on every page: data-live fragments, data-age times, charts. */}
          <script src={staticUrl("console.js")} defer></script>
        </head>
        <body>
          <header>
            <h1>supabase-d1-sync console</h1>
            {props.session ? (
              <form method="post" action="/console/logout">
                <span>
                  Signed in as <strong>{props.session.operator}</strong>
                </span>
                <input type="hidden" name="csrf" value={props.session.csrf} />
                <button type="submit">Sign out</button>
              </form>
            ) : null}
          </header>
          {props.session ? (
            <nav aria-label="Sections">
              <ul>
                {SECTIONS.map((s) => (
                  <li>
                    <a href={s.href} aria-current={s.id === props.section ? "page" : undefined}>
                      {s.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}
