import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Router } from '@koa/router';
import { HttpError } from './errors.js';

/** Served from node_modules so /docs works offline; a fixed list, so no path ever reaches the disk. */
const vendorAssets: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const initScript = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const indexPage = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>OTP verification service API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/init.js"></script>
  </body>
</html>
`;

/** Swagger UI needs inline styles and data: images; everything else stays same-origin. */
const docsPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const swaggerUiDirectory = (): string => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** GET /openapi.json, GET /docs and the page's assets. */
export const createDocsRouter = (openApi: object): Router => {
  const router = new Router();
  const cache = new Map<string, Buffer>();
  const directory = swaggerUiDirectory();
  const asset = async (name: string): Promise<Buffer> => {
    const cached = cache.get(name) ?? (await readFile(join(directory, name)));
    cache.set(name, cached);
    return cached;
  };

  router.get('/openapi.json', (ctx) => {
    ctx.body = openApi;
  });
  router.get('/docs', (ctx) => {
    ctx.set('Content-Security-Policy', docsPolicy);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = indexPage;
  });
  router.get('/docs/assets/init.js', (ctx) => {
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = initScript;
  });
  router.get('/docs/assets/:name', async (ctx) => {
    const name = ctx.params['name'] ?? '';
    const type = Object.hasOwn(vendorAssets, name) ? vendorAssets[name] : undefined;
    if (type === undefined) throw new HttpError('ROUTE_NOT_FOUND', 'No such route');
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.type = type;
    ctx.body = await asset(name);
  });
  return router;
};
