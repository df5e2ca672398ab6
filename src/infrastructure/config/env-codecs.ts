/**
 * io-ts codecs for single environment variables. Each failure carries a message that
 * completes "<NAME> …", e.g. `must be an integer from 1 to 65535, got "abc"`.
 * Blank values count as unset, since `FOO=` in a compose file usually means "no value".
 */
import { isIP } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

export type Check<A> = (raw: string) => E.Either<string, A>;

const shown = 60;
/** The raw value, quoted and shortened; never use it for secrets. */
export const quote = (raw: string): string => JSON.stringify(raw.length > shown ? `${raw.slice(0, shown)}…` : raw);

export const isBlank = (u: unknown): boolean => u === undefined || (typeof u === 'string' && u.trim() === '');

/** A variable that is set; `check` parses the trimmed value or says what is wrong. */
export const envVar = <A>(name: string, check: Check<A>): t.Type<A, unknown, unknown> =>
  new t.Type<A, unknown, unknown>(
    name,
    (u): u is A => typeof u === 'string' && E.isRight(check(u.trim())),
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c, 'must be a string');
      const result = check(u.trim());
      return E.isRight(result) ? t.success(result.right) : t.failure(u, c, result.left);
    },
    t.identity,
  );

export const withDefault = <A>(type: t.Type<A, unknown, unknown>, fallback: A): t.Type<A, unknown, unknown> =>
  new t.Type<A, unknown, unknown>(
    `${type.name} (default)`,
    type.is,
    (u, c) => (isBlank(u) ? t.success(fallback) : type.validate(u, c)),
    t.identity,
  );

export const optional = <A>(type: t.Type<A, unknown, unknown>): t.Type<A | undefined, unknown, unknown> =>
  new t.Type<A | undefined, unknown, unknown>(
    `${type.name} | undefined`,
    (u): u is A | undefined => u === undefined || type.is(u),
    (u, c) => (isBlank(u) ? t.success(undefined) : type.validate(u, c)),
    t.identity,
  );

// ---------------------------------------------------------------- checks

export const text: Check<string> = (raw) => E.right(raw);

export const integer =
  (min: number, max: number): Check<number> =>
  (raw) => {
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    return value >= min && value <= max ? E.right(value) : E.left(`must be an integer from ${min} to ${max}, got ${quote(raw)}`);
  };

export const oneOf =
  <L extends string>(values: readonly L[]): Check<L> =>
  (raw) => {
    const value = raw.toLowerCase();
    return (values as readonly string[]).includes(value)
      ? E.right(value as L)
      : E.left(`must be one of ${values.join(', ')}, got ${quote(raw)}`);
  };

export const boolean: Check<boolean> = (raw) => {
  const value = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return E.right(true);
  if (['false', '0', 'no', 'off'].includes(value)) return E.right(false);
  return E.left(`must be true or false, got ${quote(raw)}`);
};

/**
 * How many proxies in front of the service to trust: false (none), true (one), or a count. A
 * boolean word, so TRUST_PROXY=true keeps its meaning.
 */
export const proxyHops: Check<number> = (raw) => {
  const refused = E.left(`must be true, false or a number of proxies from 0 to 10, got ${quote(raw)}`);
  if (/^\d+$/.test(raw)) return Number(raw) <= 10 ? E.right(Number(raw)) : refused;
  const word = boolean(raw);
  return E.isRight(word) ? E.right(word.right ? 1 : 0) : refused;
};

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An address to listen on: an IPv4 or IPv6 address, or a host name (letters, digits, hyphens, dots). */
export const listenHost: Check<string> = (raw) =>
  isIP(raw) !== 0 || HOSTNAME.test(raw) ? E.right(raw) : E.left(`must be an IP address (0.0.0.0, ::, 127.0.0.1) or a host name, got ${quote(raw)}`);

export const matching =
  (pattern: RegExp, expected: string): Check<string> =>
  (raw) =>
    pattern.test(raw) ? E.right(raw) : E.left(`must be ${expected}, got ${quote(raw)}`);

/**
 * A URL whose scheme is one of `schemes`. Connection strings hold passwords, so a bad
 * value is described by its scheme only.
 */
export const urlWithScheme =
  (schemes: readonly string[]): Check<string> =>
  (raw) => {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\/./i.exec(raw)?.[1]?.toLowerCase();
    if (scheme !== undefined && schemes.includes(scheme)) return E.right(raw);
    const prefixes = schemes.map((s) => `${s}://`);
    const expected = prefixes.length > 1 ? `${prefixes.slice(0, -1).join(', ')} or ${prefixes.at(-1)}` : prefixes.join('');
    const got = scheme === undefined ? 'a value that is not a URL' : `a URL starting with ${scheme}://`;
    return E.left(`must be a URL starting with ${expected}, got ${got}`);
  };

export const commaList =
  <A>(item: (entry: string) => E.Either<string, A>): Check<readonly A[]> =>
  (raw) => {
    const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    const parsed = entries.map(item);
    const bad = parsed.find(E.isLeft);
    return bad ? bad : E.right(parsed.map((entry) => (entry as E.Right<A>).right));
  };

/**
 * An http(s) URL without query, fragment or credentials, a path allowed (a proxy's prefix),
 * normalised (new URL) and without a trailing slash: routes are appended to it.
 */
export const publicBaseUrl = (raw: string): E.Either<string, string> => {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  const plain = url !== undefined && ['http:', 'https:'].includes(url.protocol) && !url.search && !url.hash && !url.username && !url.password;
  return plain
    ? E.right(url.href.replace(/\/+$/, ''))
    : E.left(`must be the service's public http(s) URL, such as https://otp.example.com, without query or credentials, got ${quote(raw)}`);
};

export const httpOrigin = (entry: string): E.Either<string, string> => {
  const url = URL.canParse(entry) ? new URL(entry) : undefined;
  const bare = url !== undefined && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  return bare && ['http:', 'https:'].includes(url.protocol)
    ? E.right(url.origin)
    : E.left(`must be a comma-separated list of http(s) origins such as https://app.example.com, got ${quote(entry)}`);
};
