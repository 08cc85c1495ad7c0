import UPLOT_JS from "uplot/dist/uPlot.iife.min.js";
import UPLOT_CSS from "uplot/dist/uPlot.min.css";
import CONSOLE_JS from "./console.browser.js";

/**
 * The console's script files, bundled as text (wrangler.toml [[rules]] type "Text") and served at
 * /console/static/<name>. Public like console.css: they hold code, never data.
 */
export const STATIC_FILES = {
  "console.js": { body: CONSOLE_JS, type: "text/javascript; charset=utf-8" },
  "uplot.js": { body: UPLOT_JS, type: "text/javascript; charset=utf-8" },
  "uplot.css": { body: UPLOT_CSS, type: "text/css; charset=utf-8" },
} as const;

export const STATIC_PATH = "/console/static";
