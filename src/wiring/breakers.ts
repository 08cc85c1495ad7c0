import { CircuitBreaker } from "../../core/circuit-breaker";

/** Per isolate, shared by every batch it consumes and read by health and status (see CircuitBreaker). */
export const breakers = { d1: new CircuitBreaker("D1"), supabase: new CircuitBreaker("Supabase") };
