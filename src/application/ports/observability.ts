export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;
/** Runs `fn` inside a span named `name`; the span ends when the promise settles. */
export type Tracer = <T>(name: string, attributes: SpanAttributes, fn: () => Promise<T>) => Promise<T>;

export type LogFields = Readonly<Record<string, unknown>>;
export type Logger = {
  readonly debug: (message: string, fields?: LogFields) => void;
  readonly info: (message: string, fields?: LogFields) => void;
  readonly warn: (message: string, fields?: LogFields) => void;
  readonly error: (message: string, fields?: LogFields) => void;
};
