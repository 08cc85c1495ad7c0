/**
 * Where the console is and how to sign in locally: `npm run dev` prints it at start-up and
 * `npm run demo` ends with it, so both say the same thing.
 */

/** `npm run dev`'s defaults (PORT and ADMIN_TOKEN override them). */
export const DEV_PORT = 8787;
export const DEV_ADMIN_TOKEN = "dev-admin-token";

export function consoleHint(workerUrl: string, adminToken: string): string {
  return `${workerUrl}/console   (sign in with token ${adminToken} and any name, e.g. you@dev)`;
}
