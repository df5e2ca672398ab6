/**
 * OpenTelemetry's own warnings and errors (an export the collector refused or never answered, a
 * malformed OTEL_* variable) as JSON log lines, where the SDK would otherwise say nothing at
 * all. At most one line a minute for each kind of message (a collector that is down fails every
 * export: one line a minute, counting the ones not written, is enough to see it), and never what
 * a message carries besides its text: the SDK passes errors, response bodies and configuration
 * objects along, and an OTLP header (which can hold a collector's API key) or an endpoint's
 * credentials must not reach the logs.
 */
import type { DiagLogger } from '@opentelemetry/api';
import type { LogFields } from '../../application/ports.js';

export type DiagSink = { readonly warn: (message: string, fields?: LogFields) => void; readonly error: (message: string, fields?: LogFields) => void };

/** A message's kind: its text with numbers (statuses, ports, counts) taken out, cut short. */
export const kindOf = (message: string): string => message.replace(/\d+/g, '#').slice(0, 120);

/** Messages about headers or credentials keep their first words only: the rest may quote a value. */
const credentialWords = /header|authori[sz]ation|api[-_ ]?key|token|secret|password|credential/i;

/**
 * A diagnostic's text as logged: credentials in a URL (`user:pass@`) masked, and a message about
 * headers or credentials cut after the word that names them, before any value it could quote
 * (`Header "x-api-key" has invalid value (…)` logs `Header`).
 */
export const shownMessage = (message: string): string => {
  const masked = message.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
  const named = credentialWords.exec(masked);
  if (named === null) return masked.slice(0, 500);
  let end = named.index + named[0].length;
  while (end < masked.length && /[\w-]/.test(masked[end]!)) end++;
  return `${masked.slice(0, end)} (the rest is not logged: it may quote a credential)`;
};

/**
 * The SDK's global error handler passes an exception as its JSON (stack, and an exporter
 * error's `data`: the collector's answer): its name, code and message only.
 */
export const messageOf = (text: string): string => {
  if (!text.startsWith('{')) return text;
  try {
    const { name, code, message } = JSON.parse(text) as { name?: unknown; code?: unknown; message?: unknown };
    const parts = [name, code, message].filter((part): part is string | number => typeof part === 'string' || typeof part === 'number');
    return parts.length > 0 ? `exception: ${parts.join(' ')}` : 'exception';
  } catch {
    return 'exception';
  }
};

/** Kinds remembered at most: past this, the memory starts afresh (one more line per kind). */
const MAX_KINDS = 200;

/**
 * A DiagLogger writing OpenTelemetry's warnings and errors to `sink` (the JSON logger), rate
 * limited per kind to one line each `everyMs`. Only the first argument (the SDK's message) is
 * written, never the objects that follow it.
 */
export const rateLimitedDiagLogger = (sink: () => DiagSink, everyMs = 60_000, now: () => number = Date.now): DiagLogger => {
  // Per kind: when a line was last written and how many were held back since.
  const seen = new Map<string, { at: number; held: number }>();
  const write = (level: 'warn' | 'error') => (message: unknown) => {
    const text = typeof message === 'string' ? messageOf(message) : 'diagnostic without a message';
    const kind = kindOf(text);
    const at = now();
    const last = seen.get(kind);
    if (last !== undefined && at - last.at < everyMs) {
      last.held++;
      return;
    }
    if (last === undefined && seen.size >= MAX_KINDS) seen.clear();
    seen.set(kind, { at, held: 0 });
    const fields: LogFields = { otel_diagnostic: shownMessage(text), ...(last !== undefined && last.held > 0 ? { repeated: last.held } : {}) };
    try {
      sink()[level]('telemetry: OpenTelemetry reported a problem', fields);
    } catch {
      // A diagnostic that cannot be logged must not fail the export or the request behind it.
    }
  };
  const ignore = () => undefined;
  return { error: write('error'), warn: write('warn'), info: ignore, debug: ignore, verbose: ignore };
};
