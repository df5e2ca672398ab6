import type Router from '@koa/router';

/** A route as the routers declare it: its path (prefix included), methods, and whether it has parameters. */
export type DeclaredRoute = {
  readonly path: string;
  readonly methods: readonly string[];
  readonly literal: boolean;
  readonly matches: (path: string) => boolean;
};

/**
 * Every route of the routers: their `use` layers (no methods) left out. What the 405 for
 * spelled-out paths and the paths written to logs and traces are both built from.
 */
export const declaredRoutes = (routers: readonly Router[]): readonly DeclaredRoute[] =>
  routers.flatMap((router) =>
    router.stack.flatMap((layer) =>
      layer.methods.length > 0 && typeof layer.path === 'string'
        ? [{ path: layer.path, methods: layer.methods, literal: layer.paramNames.length === 0, matches: (path: string) => layer.match(path) }]
        : [],
    ),
  );
