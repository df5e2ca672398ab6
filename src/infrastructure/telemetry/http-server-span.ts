/**
 * The SERVER span of every HTTP request, written here rather than by the generic http and koa
 * instrumentations: those wrap the server's emitters, the request and response streams and
 * every router layer, and cost about a quarter of a verification's CPU (measured with
 * `npm run bench`); this is one span and one context switch per request. It continues the
 * caller's W3C `traceparent`, is named after the matched route (`POST /api/code/verify`), and
 * carries stable HTTP semantic-convention attributes. The path is recorded without its query.
 *
 * The same middleware records the semantic convention's `http.server.request.duration`
 * histogram (seconds, by method, route template and status), the metric HTTP dashboards
 * expect: verifications approved (200) or refused (401, 429), sends accepted (202) or refused
 * (403, 429), errors, and latency percentiles per route. Without a metrics exporter the meter
 * is OpenTelemetry's no-op.
 */
import { context, metrics, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { Middleware } from 'koa';

const tracerName = 'otp-verify-http';

const statusOf = (error: unknown): number => {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
};

/**
 * http or https. Behind trusted proxies Koa's `protocol` is the X-Forwarded-Proto a client may
 * write: anything else would be a metric series (and a span value) of the caller's choosing.
 */
const schemeOf = (ctx: { readonly protocol: string }): 'http' | 'https' => (ctx.protocol === 'https' ? 'https' : 'http');

/** A route template such as `/api/code/:challenge_id`, not a layer's regular expression. */
const isTemplate = (route: string): boolean => route.startsWith('/') && !/[()?\\|^$]/.test(route);

/** The semantic convention's advised buckets for http.server.request.duration, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * `shownPath` is what the span's `url.path` records of the request's path: the HTTP app passes
 * the access log's (`pathForLog`), so a secret pasted into a URL is not exported with the trace.
 */
export const httpServerSpan = (shownPath: (path: string) => string = (path) => path): Middleware => {
  const tracer = trace.getTracer(tracerName);
  const duration = metrics.getMeter(tracerName).createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP server requests',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  return async (ctx, next) => {
    const started = performance.now();
    const scheme = schemeOf(ctx);
    const parent = propagation.extract(ROOT_CONTEXT, ctx.req.headers);
    const attributes: Attributes = {
      'http.request.method': ctx.method,
      'url.path': shownPath(ctx.path),
      'url.scheme': scheme,
      'network.protocol.version': ctx.req.httpVersion,
    };
    const span = tracer.startSpan(ctx.method, { kind: SpanKind.SERVER, attributes }, parent);
    let failed: unknown;
    try {
      await context.with(trace.setSpan(parent, span), next);
    } catch (error) {
      failed = error;
      throw error;
    } finally {
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      // @koa/router records every layer it runs: a request stopped by a router's own middleware
      // (an API-key check answering 401) is left with that layer's path, a regular expression.
      const template = typeof route === 'string' && isTemplate(route) ? route : undefined;
      if (template !== undefined) {
        span.setAttribute('http.route', template);
        span.updateName(`${ctx.method} ${template}`);
      }
      // An error escaping every middleware is answered by Koa: with its own status if it has one.
      const status = failed === undefined ? ctx.status : statusOf(failed);
      // Low cardinality only: the route template, never the path (ids in it would be a series each).
      duration.record((performance.now() - started) / 1000, {
        'http.request.method': ctx.method,
        'http.response.status_code': status,
        'url.scheme': scheme,
        ...(template === undefined ? {} : { 'http.route': template }),
      });
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      if (failed !== undefined) span.recordException(failed instanceof Error ? failed : String(failed));
      span.end();
    }
  };
};
