/** The caller asked for something the CLI cannot send: print it with the usage and exit 2, before any request. */
export class UsageError extends Error {
  override name = "UsageError";
}
