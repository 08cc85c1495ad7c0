/**
 * A clock that only moves when someone sleeps on it: the client's backoff and budget waits and the
 * stand-in's token expiry and rate windows all read it, so tests are exact and never wait.
 */
export function fakeClock(start = Date.UTC(2026, 0, 5, 12, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}
