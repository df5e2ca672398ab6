/**
 * The SERVER span of every HTTP request, written here rather than by the generic http and koa
 * instrumentations: those wrap the server's emitters, the request and response streams and
 * every router layer, and cost about a quarter of a verification's CPU (measured with
 * `npm run bench`); this is one span and one context switch per request. It continues the
 * caller's W3C `traceparent`, is named after the matched route (`POST /api/code/verify`), and
 * carries stable HTTP semantic-convention attributes. The path is recorded without its query.
 *
 * The route is the template of the endpoint that matched the request's path and method, whether
 * or not the request got past the router's own middleware (an API-key check answering 401 still
 * names `/api/code/verify`). Methods outside HTTP's standard ones are recorded as `_OTHER`
 * (span name `HTTP`), as the semantic conventions say: every method Node parses (PURGE,
 * PROPFIND...) would otherwise be a series of its own.
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
const isTemplate = (route: unknown): route is string => typeof route === 'string' && route.startsWith('/') && !/[()?\\|^$]/.test(route);

/** The methods the semantic conventions know; any other is `_OTHER` (http.request.method_original keeps it on the span). */
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
export const methodOf = (method: string): string => (knownMethods.has(method) ? method : '_OTHER');

/** What @koa/router leaves on the context: the layers that matched the path, the path of the last one it ran. */
type Layer = { readonly path: unknown; readonly methods: readonly string[] };
type Routed = { readonly matched?: readonly Layer[]; readonly _matchedRoute?: unknown; readonly method: string };

/**
 * The template of the endpoint (a layer with methods, not a `router.use` middleware) that
 * matched the request's path and method. @koa/router overwrites `_matchedRoute` with each layer
 * it runs, middleware included: a request its middleware answered (401) is left with that
 * middleware's path, a regular expression. `matched` holds every layer that matched the path,
 * in the order they run: the first endpoint for the method is the one that answers, unless it
 * passed the request on to a later one, which `_matchedRoute` then names.
 */
export const routeOf = (ctx: Routed): string | undefined => {
  const { matched, _matchedRoute: ran, method } = ctx;
  if (matched === undefined) return undefined;
  let first: string | undefined;
  // A loop, not find(): no closure per request.
  for (let i = 0; i < matched.length; i++) {
    const { path, methods } = matched[i]!;
    if (methods.length === 0 || !methods.includes(method) || !isTemplate(path)) continue;
    if (path === ran) return path;
    first ??= path;
  }
  return first;
};

/** The semantic convention's advised buckets for http.server.request.duration, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * `shownPath` is what the span's `url.path` records of the request's path: the HTTP app passes
 * the access log's (`pathForLog`), so a secret pasted into a URL is not exported with the trace.
 * `unrouted`, if given, names the route of a request answered before any router saw it (a body
 * that is not JSON, refused by the body parser): `routeMatcher(routers)` does it with the
 * routers' own match, paid by such requests only.
 */
export const httpServerSpan = (
  shownPath: (path: string) => string = (path) => path,
  unrouted?: (method: string, path: string) => string | undefined,
): Middleware => {
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
    const method = methodOf(ctx.method);
    // The span's name before a route is known: the method, or HTTP for one the conventions do not know.
    const named = method === '_OTHER' ? 'HTTP' : method;
    const attributes: Attributes = {
      'http.request.method': method,
      'url.path': shownPath(ctx.path),
      'url.scheme': scheme,
      'network.protocol.version': ctx.req.httpVersion,
    };
    // The parser accepts a few dozen methods only: the original is no open-ended value.
    if (method === '_OTHER') attributes['http.request.method_original'] = ctx.method;
    const span = tracer.startSpan(named, { kind: SpanKind.SERVER, attributes }, parent);
    let failed: unknown;
    try {
      await context.with(trace.setSpan(parent, span), next);
    } catch (error) {
      failed = error;
      throw error;
    } finally {
      // An error escaping every middleware is answered by Koa: with its own status if it has one.
      const status = failed === undefined ? ctx.status : statusOf(failed);
      const routed = ctx as unknown as Routed;
      // No router reached (the body parser refused the request): asked of the routers, unless
      // no route can have the path (404) or the method is none a route takes.
      const template =
        routeOf(routed) ??
        (routed.matched === undefined && unrouted !== undefined && status !== 404 && method !== '_OTHER' ? unrouted(ctx.method, ctx.path) : undefined);
      if (template !== undefined) {
        span.setAttribute('http.route', template);
        span.updateName(`${named} ${template}`);
      }
      // Low cardinality only: the route template, never the path (ids in it would be a series each).
      duration.record((performance.now() - started) / 1000, {
        'http.request.method': method,
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

/** What `routeMatcher` needs of a @koa/router router: its match of a path and method. */
type Matching = { readonly match: (path: string, method: string) => { readonly pathAndMethod: readonly Layer[] } };

/**
 * The route template the routers would give `method` and `path`, for requests answered before
 * any router ran (`httpServerSpan`'s `unrouted`): their first endpoint for the method, as when
 * routed. Each router tests its patterns, so it is asked only of such requests.
 */
export const routeMatcher =
  (routers: readonly Matching[]) =>
  (method: string, path: string): string | undefined => {
    for (const router of routers) {
      const route = routeOf({ matched: router.match(path, method).pathAndMethod, method });
      if (route !== undefined) return route;
    }
    return undefined;
  };
