// What console.browser.js finds on the page besides the DOM (tsconfig.browser.json).
interface Window {
  /** uPlot's IIFE build (static/uplot.js), loaded before console.js on the charts page. */
  uPlot?: any;
}
