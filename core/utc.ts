export function utcNow(): string {
  return new Date().toISOString();
}
