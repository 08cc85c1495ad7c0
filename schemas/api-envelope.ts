/** The seeds' response envelope (seed 004): every JSON response of the worker has this shape. */
export interface ApiResponse<T> {
  success: boolean;
  data?: T;
  error?: { code: string; message: string; retryable: boolean; details?: unknown };
  meta: { requestId: string; duration: number };
}
