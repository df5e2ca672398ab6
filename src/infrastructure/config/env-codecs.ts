/**
 * io-ts codecs for single environment variables. Each failure carries a message that
 * completes "<NAME> …", e.g. `must be an integer from 1 to 65535, got "abc"`; which values a
 * message may show is said below (`echo`).
 * Blank values count as unset, since `FOO=` in a compose file usually means "no value".
 */
import { isIP } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';

export type Check<A> = (raw: string) => E.Either<string, A>;

/*
 * What a refused value's message may show. A value is echoed only where the variable's valid
 * values are numbers or fixed words, so what was typed there is no secret and seeing it helps:
 * `integer` (PORT and every count, limit and duration), `oneOf` (LOG_LEVEL, PROCESS_ROLE,
 * OPERATOR_SIGNUP, DELIVERY_RECEIPTS), `boolean` and `proxyHops` (TRUST_PROXY), and `listenHost`
 * (HOST, unless the value looks like a URL or holds '@'). Even there a value longer than
 * `echoedAtMost` characters (32 for HOST, whose names run longer; a base64 key has 43 or more) is
 * described by its length: a key or token pasted into the wrong variable (32 bytes and more)
 * stays out of the message. Every other check describes the value: URLs (PUBLIC_URL,
 * CORS_ORIGINS) by what is wrong with them and at most their scheme and host, credentials as ***;
 * connection strings (DATABASE_URL, EVENTSTORE_CONNECTION_STRING, REDIS_URL) by their scheme;
 * identifiers and addresses (MASTER_KEY_ID, PREVIOUS_MASTER_KEYS' ids, REDIS_KEY_PREFIX,
 * EMAIL_ADDRESS), where a pasted key or password is the likely mistake, by the rule and their
 * length; key material (secret-codecs.ts) by its size or type.
 */
const echoedAtMost = 16;

/** A refused value of a variable that holds numbers or fixed words: quoted when short, else its length. */
export const echo = (raw: string, atMost: number = echoedAtMost): string =>
  raw.length <= atMost ? JSON.stringify(raw) : `a value of ${raw.length} characters (not shown)`;

/** A refused value that may be a secret: only its length. */
export const lengthOf = (raw: string): string => `a value of ${raw.length} characters (not shown)`;

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
    return value >= min && value <= max ? E.right(value) : E.left(`must be an integer from ${min} to ${max}, got ${echo(raw)}`);
  };

export const oneOf =
  <L extends string>(values: readonly L[]): Check<L> =>
  (raw) => {
    const value = raw.toLowerCase();
    return (values as readonly string[]).includes(value)
      ? E.right(value as L)
      : E.left(`must be one of ${values.join(', ')}, got ${echo(raw)}`);
  };

export const boolean: Check<boolean> = (raw) => {
  const value = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return E.right(true);
  if (['false', '0', 'no', 'off'].includes(value)) return E.right(false);
  return E.left(`must be true or false, got ${echo(raw)}`);
};

/**
 * How many proxies in front of the service to trust: false (none), true (one), or a count. A
 * boolean word, so TRUST_PROXY=true keeps its meaning.
 */
export const proxyHops: Check<number> = (raw) => {
  const refused = E.left(`must be true, false or a number of proxies from 0 to 10, got ${echo(raw)}`);
  if (/^\d+$/.test(raw)) return Number(raw) <= 10 ? E.right(Number(raw)) : refused;
  const word = boolean(raw);
  return E.isRight(word) ? E.right(word.right ? 1 : 0) : refused;
};

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An address to listen on: an IPv4 or IPv6 address, or a host name (letters, digits, hyphens, dots). */
export const listenHost: Check<string> = (raw) => {
  if (isIP(raw) !== 0 || HOSTNAME.test(raw)) return E.right(raw);
  // A URL (perhaps with credentials) or a value with '@' is described, not shown.
  const got = raw.includes('://') ? 'a URL: give the address alone' : raw.includes('@') ? `a value with '@' (${raw.length} characters, not shown)` : echo(raw, 32);
  return E.left(`must be an IP address (0.0.0.0, ::, 127.0.0.1) or a host name, got ${got}`);
};

/** A value of a pattern; a refused one is described by its length only (see `echo`). */
export const matching =
  (pattern: RegExp, expected: string): Check<string> =>
  (raw) =>
    pattern.test(raw) ? E.right(raw) : E.left(`must be ${expected}, got ${lengthOf(raw)}`);

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
    // The scheme alone is shown, and only when it is short: what follows it may hold a password.
    const got = scheme === undefined ? 'a value that is not a URL' : scheme.length <= 24 ? `a URL starting with ${scheme}://` : 'a URL with another scheme';
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

const isHttp = (url: URL): boolean => url.protocol === 'http:' || url.protocol === 'https:';

/**
 * An http(s) URL as a message may show it: scheme, `***@` for credentials, host and port, and
 * `/…` for a path; never its userinfo, path, query or fragment.
 */
export const redactedUrl = (url: URL): string =>
  `${url.protocol}//${url.username || url.password ? '***@' : ''}${url.host}${url.pathname === '/' || url.pathname === '' ? '' : '/…'}`;

const joined = (words: readonly string[]): string => (words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : words.join(''));

/**
 * What is wrong with a value meant to be an http(s) URL, for "got …": a value that does not
 * parse or another scheme is not shown at all; an http(s) URL is shown redacted (`redactedUrl`),
 * followed by what it has that it may not (`refuse` lists them), or undefined when it is fine.
 */
const urlProblem = (raw: string, refuse: (url: URL) => readonly string[]): { url?: URL; problem?: string } => {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url === undefined) return { problem: `a value that is not a URL${raw.includes('://') ? '' : ' (no scheme such as https://)'}` };
  if (!isHttp(url)) return { problem: 'a URL that is not http(s)' };
  const found = refuse(url);
  return found.length === 0 ? { url } : { url, problem: `${redactedUrl(url)}, which has ${joined(found)}` };
};

const credentialsQueryFragment = (url: URL): string[] => [
  ...(url.username || url.password ? ['credentials'] : []),
  ...(url.search ? ['a query string'] : []),
  ...(url.hash ? ['a fragment'] : []),
];

/**
 * An http(s) URL without query, fragment or credentials, a path allowed (a proxy's prefix),
 * normalised (new URL) and without a trailing slash: routes are appended to it. A refused value
 * is described (credentials, a query), never echoed: webhook URLs often carry credentials.
 */
export const publicBaseUrl = (raw: string): E.Either<string, string> => {
  const { url, problem } = urlProblem(raw, credentialsQueryFragment);
  return url !== undefined && problem === undefined
    ? E.right(url.href.replace(/\/+$/, ''))
    : E.left(`must be the service's public http(s) URL, such as https://otp.example.com, without credentials, query or fragment, got ${problem}`);
};

/** An http(s) origin: scheme, host and port only. A refused entry is described like PUBLIC_URL's value. */
export const httpOrigin = (entry: string): E.Either<string, string> => {
  const { url, problem } = urlProblem(entry, (parsed) => [...credentialsQueryFragment(parsed), ...(parsed.pathname === '/' ? [] : ['a path'])]);
  return url !== undefined && problem === undefined
    ? E.right(url.origin)
    : E.left(`must be a comma-separated list of http(s) origins such as https://app.example.com, got ${problem}`);
};
