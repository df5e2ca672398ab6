export type Clock = () => Date;
/** A new random UUID (v4). */
export type IdGenerator = () => string;
/** `length` decimal digits from a CSPRNG, leading zeros kept. */
export type RandomDigits = (length: number) => string;
/** A random token of URL-safe characters carrying at least `bytes` bytes of entropy. */
export type RandomToken = (bytes: number) => string;
