/** What end-to-end tests need to know about each documented operation, read from the OpenAPI document itself. */
import { documentedRoutes, openApiDocument, type DocumentedRoute } from '../../src/interfaces/http/openapi.js';

type Json = Record<string, any>;

/** A plain-JSON copy: `as const` literals become ordinary objects ajv and tests can walk. */
export const openApiJson = (): Json => JSON.parse(JSON.stringify(openApiDocument)) as Json;

export type Auth = 'none' | 'jwt' | 'key-or-jwt';

export type RouteInfo = DocumentedRoute & {
  readonly operation: Json;
  readonly auth: Auth;
  /** Component name of the JSON request body, if the operation takes one. */
  readonly bodySchema: string | undefined;
  readonly bodyFields: readonly string[];
  readonly pathParams: readonly string[];
  readonly queryParams: readonly string[];
  readonly successStatus: number;
};

const authOf = (security: readonly Json[] | undefined): Auth => {
  const schemes = (security ?? []).flatMap((requirement) => Object.keys(requirement));
  if (schemes.length === 0) return 'none';
  return schemes.includes('apiKey') ? 'key-or-jwt' : 'jwt';
};

export const routeInfos = (): readonly RouteInfo[] => {
  const doc = openApiJson();
  return documentedRoutes.map((route) => {
    const operation = doc['paths'][route.path][route.method.toLowerCase()] as Json;
    const ref: string | undefined = operation['requestBody']?.content?.['application/json']?.schema?.$ref;
    const bodySchema = ref?.replace('#/components/schemas/', '');
    const parameters = (operation['parameters'] ?? []) as Json[];
    return {
      ...route,
      operation,
      auth: authOf(operation['security']),
      bodySchema,
      bodyFields: bodySchema ? Object.keys(doc['components']['schemas'][bodySchema].properties ?? {}) : [],
      pathParams: parameters.filter((p) => p['in'] === 'path').map((p) => p['name'] as string),
      queryParams: parameters.filter((p) => p['in'] === 'query').map((p) => p['name'] as string),
      successStatus: Number(Object.keys(operation['responses']).find((status) => status.startsWith('2'))),
    };
  });
};

/** `/api/app/{id}` with each `{param}` replaced by `value(param)`. */
export const fillPath = (path: string, value: (param: string) => string): string => path.replace(/\{([^}]+)\}/g, (_, name: string) => value(name));
