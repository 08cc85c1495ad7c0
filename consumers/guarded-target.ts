import { describe, TransientError } from "../core/errors";
import type { CircuitBreaker } from "../core/circuit-breaker";
import type { ReplicaTarget } from "../core/apply-batch";

/** A replica target behind a circuit breaker: only transient store failures count against it. */
export function guardedTarget(target: ReplicaTarget, breaker: CircuitBreaker): ReplicaTarget {
  return {
    store: target.store,
    async apply(events) {
      if (!breaker.allows()) {
        const wait = Math.ceil(breaker.retryInMs() / 1000);
        throw new TransientError(
          "CIRCUIT_OPEN",
          `${breaker.name} failed repeatedly; not calling it for another ${wait} s`,
          undefined,
          wait,
        );
      }
      try {
        const result = await target.apply(events);
        breaker.success();
        return result;
      } catch (error) {
        if (describe(error).retryable) breaker.failure();
        else breaker.success(); // the store answered: it is up, the data was the problem
        throw error;
      }
    },
  };
}
