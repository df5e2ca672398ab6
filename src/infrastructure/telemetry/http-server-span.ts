/**
 * The SERVER span of every HTTP request, written here rather than by the generic http and koa
 * instrumentations: those wrap the server's emitters, the request and response streams and
 * every router layer, and cost about a quarter of a verification's CPU (measured with
 * `npm run bench`); this is one span and one context switch per request. It continues the
 * caller's W3C `traceparent`, is named after the matched route (`POST /api/code/verify`), and
 * carries stable HTTP semantic-convention attributes. The path is recorded without its query.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { Middleware } from 'koa';

const tracerName = 'otp-verify-http';

const statusOf = (error: unknown): number => {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
};

/** A route template such as `/api/code/:challenge_id`, not a layer's regular expression. */
const isTemplate = (route: string): boolean => route.startsWith('/') && !/[()?\\|^$]/.test(route);

export const httpServerSpan = (): Middleware => {
  const tracer = trace.getTracer(tracerName);
  return async (ctx, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, ctx.req.headers);
    const attributes: Attributes = {
      'http.request.method': ctx.method,
      'url.path': ctx.path,
      'url.scheme': ctx.protocol,
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
      if (typeof route === 'string' && isTemplate(route)) {
        span.setAttribute('http.route', route);
        span.updateName(`${ctx.method} ${route}`);
      }
      // An error escaping every middleware is answered by Koa: with its own status if it has one.
      const status = failed === undefined ? ctx.status : statusOf(failed);
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      if (failed !== undefined) span.recordException(failed instanceof Error ? failed : String(failed));
      span.end();
    }
  };
};
