/**
 * What is logged of a failure: its name, message, stack, and what caused it (adapters wrap).
 * A thrown value that is not an Error is named by its type only: it may hold request data.
 */
export const describeError = (error: unknown): Record<string, string | undefined> =>
  error instanceof Error
    ? {
        error: error.name,
        error_message: error.message,
        stack: error.stack,
        ...(error.cause instanceof Error ? { cause: `${error.cause.name}: ${error.cause.message}` } : {}),
      }
    : { error: typeof error };
