/** The aggregate id inside a stream name such as `app-<uuid>`. */
export const idOf = (stream: string): string => stream.slice(stream.indexOf('-') + 1);
