/**
 * What may be kept of an error's text in public.error_logs (seed 002: "stack traces sanitised"):
 * anything that looks like a credential is replaced, and the text is capped. Our messages never
 * quote a token on purpose; this is the net under a third-party message or a stack that might.
 */
const SECRETS: Array<[RegExp, string]> = [
  // Authorization headers and bearer tokens quoted in a message.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [redacted]"],
  // key=value and "key": "value" forms of anything named like a secret.
  [
    /\b((?:access|refresh)_?token|token|secret|password|client_secret|api_?key|authorization)(["']?\s*[:=]\s*["']?)(?!(?:Bearer|Basic)\s)[^\s"'&,;}]+/gi,
    "$1$2[redacted]",
  ],
  // An OAuth code or state in a URL's query.
  [/([?&](?:code|state)=)[^&\s"']+/gi, "$1[redacted]"],
  // JWTs (three base64url parts).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, "[redacted jwt]"],
  // Long opaque runs (HubSpot's tokens, keys, hex secrets): 32 characters or more. Hyphens are not
  // part of a run, so a uuid (a session's, a row's) stays readable.
  [/[A-Za-z0-9_+/=]{32,}/g, "[redacted]"],
];

export function sanitise(text: string | null | undefined, maxChars: number): string | null {
  if (text === null || text === undefined) return null;
  let out = text;
  for (const [pattern, replacement] of SECRETS) out = out.replace(pattern, replacement);
  return out.length <= maxChars ? out : `${out.slice(0, maxChars)}… (cut at ${maxChars} characters)`;
}
