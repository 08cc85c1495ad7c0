// Vite's raw import: tests read wrangler.toml to check it agrees with the code.
declare module "*?raw" {
  const text: string;
  export default text;
}
