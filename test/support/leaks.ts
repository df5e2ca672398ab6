/**
 * Looks for secrets (provider keys, codes, full phone numbers) in text the service let out:
 * log lines and HTTP answers. Digit-only needles (codes, numbers without the +) match only as
 * a whole run of digits and letters, so a six-digit code is not "found" inside a timestamp or
 * a hex hash by chance.
 */
import { decodeBase32 } from '../../src/infrastructure/otp/base32.js';
import type { Client, HttpResponse, RequestOptions } from './http-client.js';

export type Needle = { readonly kind: string; readonly value: string };
export type Haystack = { readonly where: string; readonly text: string };

const escape = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const matcher = (needle: Needle): ((text: string) => boolean) => {
  if (!/^[0-9]+$/.test(needle.value)) return (text) => text.includes(needle.value);
  const pattern = new RegExp(`(?<![0-9A-Za-z])${escape(needle.value)}(?![0-9A-Za-z])`);
  return (text) => pattern.test(text);
};

/** Every (needle, place) pair where a needle shows up. */
export const findLeaks = (haystacks: readonly Haystack[], needles: readonly Needle[]): string[] => {
  const matchers = needles.map((needle) => ({ needle, test: matcher(needle) }));
  return haystacks.flatMap(({ where, text }) => matchers.filter(({ test }) => test(text)).map(({ needle }) => `${needle.kind} ${needle.value} in ${where}`));
};

/** The forms a phone number could be written in: E.164, digits only, national digits. */
/** A seed as given and as its bytes in the encodings a careless attribute might use. */
export const seedNeedles = (seed: string): Needle[] => {
  const raw = Buffer.from(decodeBase32(seed) ?? []);
  if (raw.length < 20) throw new Error('a TOTP seed did not decode to at least 20 bytes');
  return [
    { kind: 'totp seed', value: seed },
    { kind: 'totp seed (lower case)', value: seed.toLowerCase() },
    { kind: 'totp seed (hex)', value: raw.toString('hex') },
    { kind: 'totp seed (HEX)', value: raw.toString('hex').toUpperCase() },
    { kind: 'totp seed (base64)', value: raw.toString('base64').replace(/=+$/, '') },
    { kind: 'totp seed (base64url)', value: raw.toString('base64url') },
  ];
};

export const phoneNeedles = (e164: string, countryCode: string): Needle[] => [
  { kind: 'phone number', value: e164 },
  { kind: 'phone number (digits)', value: e164.slice(1) },
  { kind: 'phone number (national)', value: e164.slice(1 + countryCode.length) },
];

export const logHaystacks = (logs: readonly string[]): Haystack[] => logs.map((text, index) => ({ where: `log line ${index}`, text }));

/** A client that keeps every answer (method, path, status, raw text) for a later search. */
export const recordingClient = (inner: Client): { client: Client; answers: Haystack[]; errorAnswers: () => Haystack[] } => {
  const answers: (Haystack & { status: number })[] = [];
  const request: Client['request'] = async (method, path, options?: RequestOptions) => {
    const response: HttpResponse = await inner.request(method, path, options);
    answers.push({ where: `${method} ${path} → ${response.status}`, text: response.text, status: response.status });
    return response;
  };
  const client = {
    request,
    get: (p, o) => request('GET', p, o),
    post: (p, o) => request('POST', p, o),
    put: (p, o) => request('PUT', p, o),
    delete: (p, o) => request('DELETE', p, o),
  } as Client;
  return { client, answers, errorAnswers: () => answers.filter((a) => a.status >= 400) };
};
