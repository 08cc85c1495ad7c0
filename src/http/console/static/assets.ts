import UPLOT_JS from "uplot/dist/uPlot.iife.min.js";
import UPLOT_CSS from "uplot/dist/uPlot.min.css";
import CONSOLE_JS from "./console.browser.js";
import { CONSOLE_CSS } from "../styles";

/**
 * The console's static files, bundled as text (wrangler.toml [[rules]] type "Text") and served at
 * /console/static/<name>. Public: they hold code and style, never data.
 */
export const STATIC_FILES = {
  "console.css": { body: CONSOLE_CSS, type: "text/css; charset=utf-8" },
  "console.js": { body: CONSOLE_JS, type: "text/javascript; charset=utf-8" },
  "uplot.js": { body: UPLOT_JS, type: "text/javascript; charset=utf-8" },
  "uplot.css": { body: UPLOT_CSS, type: "text/css; charset=utf-8" },
} as const;
export type StaticFile = keyof typeof STATIC_FILES;

export const STATIC_PATH = "/console/static";

/** FNV-1a (32 bits) of a file's text: a version that changes when a deploy changes the file. */
function versionOf(body: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) hash = Math.imul(hash ^ body.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

const versions = new Map<StaticFile, string>();
export function staticVersion(name: StaticFile): string {
  let version = versions.get(name);
  if (!version) versions.set(name, (version = versionOf(STATIC_FILES[name].body)));
  return version;
}

/**
 * Where a page loads a static file: its name with its content's version, so a browser may keep it
 * for a year (immutable) and still gets the new file the moment a deploy changes it.
 */
export const staticUrl = (name: StaticFile) => `${STATIC_PATH}/${name}?v=${staticVersion(name)}`;
