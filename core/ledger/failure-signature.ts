/**
 * A failure's signature: what stays the same when one cause fails many rows. Ids, timestamps,
 * numbers and key values are blanked out of the message, so "Key (prospect_id)=(3f…) is not
 * present" for a thousand emails is one group, while a different constraint is another.
 */
const BLANKS: Array<[RegExp, string]> = [
  [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<uuid>"],
  [/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, "<ulid>"],
  [/\d{4}-\d{2}-\d{2}[T ][\d:.]+(Z|[+-]\d{2}(:?\d{2})?)?/g, "<time>"],
  // Postgres key details: "Key (to_email)=(a@b.test) already exists". Quoted names (constraints,
  // tables, columns) are kept: they tell causes apart.
  [/=\([^)]{0,200}\)/g, "=(…)"],
  [/\b0x[0-9a-f]+\b/gi, "<hex>"],
  [/\b\d+(\.\d+)?\b/g, "<n>"],
];

export function messagePattern(message: string): string {
  let pattern = message.slice(0, 1000);
  for (const [re, blank] of BLANKS) pattern = pattern.replace(re, blank);
  return pattern.replace(/\s+/g, " ").trim().slice(0, 300);
}

export interface Signature {
  queue: string;
  entity: string | null;
  error_code: string;
  message_pattern: string;
}

export function signatureOf(f: {
  queue: string;
  entity: string | null;
  error_code: string;
  error_message: string;
}): Signature {
  return {
    queue: f.queue,
    entity: f.entity,
    error_code: f.error_code,
    message_pattern: messagePattern(f.error_message),
  };
}

/** Stable group id: the first 16 hex digits of SHA-256 over the signature's fields. */
export async function groupIdOf(s: Signature): Promise<string> {
  const text = JSON.stringify([s.queue, s.entity, s.error_code, s.message_pattern]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
