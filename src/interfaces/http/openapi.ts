import { componentResponses } from './openapi/operation.js';
import { authAndAppPaths } from './openapi/paths-auth-app.js';
import { codePaths } from './openapi/paths-code.js';
import { metaPaths } from './openapi/paths-meta.js';
import { otpPaths } from './openapi/paths-otp.js';
import { webhookPaths } from './openapi/paths-webhooks.js';
import { schemas } from './openapi/schemas.js';
import { serviceVersion } from '../../infrastructure/version.js';

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'OTP verification service',
    version: serviceVersion,
    description:
      'Self-hosted, multi-tenant OTP verification: TOTP, codes sent by email, SMS and WhatsApp, and recovery codes. ' +
      'Every path also accepts a trailing slash. Errors share one body: ' +
      '`{"error": true, "code", "message", "details": [{field, message}], "request_id"}`.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  tags: [
    { name: 'auth', description: 'Operator accounts' },
    { name: 'app', description: 'Apps (tenants) and their policy' },
    { name: 'otp', description: 'End-user enrollments' },
    { name: 'code', description: 'Sending and verifying codes' },
    { name: 'webhooks', description: "Providers' calls back to the service" },
    { name: 'health' },
    { name: 'docs' },
  ],
  paths: { ...authAndAppPaths, ...otpPaths, ...codePaths, ...webhookPaths, ...metaPaths },
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Operators' },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: "App backends; the key implies the app" },
    },
    headers: {
      RequestId: { description: 'Echo of a sane incoming X-Request-Id, or a generated one', schema: { type: 'string' } },
      RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } },
    },
    schemas,
    responses: componentResponses,
  },
} as const;

const methods = ['get', 'put', 'post', 'delete', 'patch'] as const;

export type DocumentedRoute = {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
  /** As in the document: `/api/app/{id}`. */
  readonly path: string;
  /** As @koa/router writes it: `/api/app/:id`. */
  readonly routerPath: string;
};

export const documentedRoutes: readonly DocumentedRoute[] = Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
  methods
    .filter((method) => Object.hasOwn(item, method))
    .map((method) => ({
      method: method.toUpperCase() as DocumentedRoute['method'],
      path,
      routerPath: path.replace(/\{([^}]+)\}/g, ':$1'),
    })),
);
