import { describe, expect, it } from '@jest/globals';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { kindOf, rateLimitedDiagLogger, shownMessage, type DiagSink } from '../../../src/infrastructure/telemetry/diagnostics.js';

type Line = { level: 'warn' | 'error'; message: string; fields: Record<string, unknown> | undefined };

const capture = () => {
  const lines: Line[] = [];
  const sink: DiagSink = {
    warn: (message, fields) => void lines.push({ level: 'warn', message, fields: fields as Record<string, unknown> }),
    error: (message, fields) => void lines.push({ level: 'error', message, fields: fields as Record<string, unknown> }),
  };
  return { lines, sink };
};

describe("OpenTelemetry's diagnostics as JSON log lines", () => {
  it('writes warnings and errors, rate limited to one line a minute per kind, counting the ones held back', () => {
    const { lines, sink } = capture();
    let now = 0;
    const logger = rateLimitedDiagLogger(() => sink, 60_000, () => now);
    logger.error('export request failure (error: Error: connect ECONNREFUSED 127.0.0.1:4318)');
    logger.error('export request failure (error: Error: connect ECONNREFUSED 127.0.0.1:4319)');
    logger.warn('export response retryable (status: 503)');
    logger.info('ignored');
    logger.debug('ignored');
    logger.verbose('ignored');
    now = 59_999;
    logger.error('export request failure (error: Error: connect ECONNREFUSED 127.0.0.1:4318)');
    expect(lines.map((l) => [l.level, l.fields?.['otel_diagnostic']])).toEqual([
      ['error', 'export request failure (error: Error: connect ECONNREFUSED 127.0.0.1:4318)'],
      ['warn', 'export response retryable (status: 503)'],
    ]);
    now = 60_000;
    logger.error('export request failure (error: Error: connect ECONNREFUSED 127.0.0.1:4318)');
    expect(lines).toHaveLength(3);
    expect(lines[2]!.fields).toMatchObject({ repeated: 2 });
    expect(lines.every((l) => l.message === 'telemetry: OpenTelemetry reported a problem')).toBe(true);
  });

  it('never writes what follows the message (errors, response bodies, configurations with headers)', () => {
    const { lines, sink } = capture();
    const logger = rateLimitedDiagLogger(() => sink);
    const config = { headers: { 'x-api-key': 'sk_live_s3cret' } };
    logger.warn('Export succeeded but could not deserialize response', new Error('body sk_live_s3cret'), config);
    logger.error('PeriodicExportingMetricReader: metrics export threw error', { authorization: 'Bearer sk_live_s3cret' });
    expect(JSON.stringify(lines)).not.toContain('s3cret');
    expect(lines).toHaveLength(2);
  });

  it('cuts a message about headers or credentials before any value it quotes, and masks credentials in URLs', () => {
    expect(shownMessage('Header "x-api-key" has invalid value (sk_live_s3cret) and will be ignored')).toBe('Header (the rest is not logged: it may quote a credential)');
    expect(shownMessage("Configuration: Could not parse environment-provided export URL: 'https://user:s3cret@collector:4318', falling back")).not.toContain('s3cret');
    expect(shownMessage('export request failure (error: Error: getaddrinfo ENOTFOUND https://u:s3cret@x)')).toBe('export request failure (error: Error: getaddrinfo ENOTFOUND https://***@x)');
    expect(shownMessage('Invalid token sk_live_s3cret')).not.toContain('s3cret');
    expect(kindOf('export response failure (status: 503)')).toBe(kindOf('export response failure (status: 401)'));
  });

  it("writes an exception the SDK's error handler passes as JSON by its name, code and message: no stack, no collector's answer", () => {
    const { lines, sink } = capture();
    const logger = rateLimitedDiagLogger(() => sink);
    logger.error(JSON.stringify({ stack: 'Error: connect ECONNREFUSED\n    at x (/srv/app.js:1:1)', message: 'connect ECONNREFUSED 127.0.0.1:4318', code: 'ECONNREFUSED', name: 'Error' }));
    logger.error(JSON.stringify({ name: 'OTLPExporterError', message: 'Unauthorized', code: 401, data: '{"echo":"x-api-key: sk_live_s3cret"}' }));
    logger.error('{not json');
    expect(lines.map((l) => l.fields?.['otel_diagnostic'])).toEqual(['exception: Error ECONNREFUSED connect ECONNREFUSED 127.0.0.1:4318', 'exception: OTLPExporterError 401 Unauthorized', 'exception']);
  });

  it('is what diag writes to once set, at warn level', () => {
    const { lines, sink } = capture();
    diag.setLogger(rateLimitedDiagLogger(() => sink), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    try {
      diag.info('not shown');
      diag.warn('Header "authorization" has invalid value (Bearer s3cret) and will be ignored');
      diag.error('export response failure (status: 401)');
    } finally {
      diag.disable();
    }
    expect(lines.map((l) => l.fields?.['otel_diagnostic'])).toEqual(['Header (the rest is not logged: it may quote a credential)', 'export response failure (status: 401)']);
  });

  it('never throws, even when the log cannot be written', () => {
    const logger = rateLimitedDiagLogger(() => {
      throw new Error('stdout gone');
    });
    expect(() => logger.error('export request failure')).not.toThrow();
  });
});
