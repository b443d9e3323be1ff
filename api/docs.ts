/** Interactive API docs at /docs: Swagger UI served from the npm package, so it works offline. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Hono } from 'hono';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clinical process engine API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });</script>
</body></html>`;

export function docsRouter() {
  const dir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const router = new Hono();
  router.get('/', (c) => c.html(PAGE));
  for (const [file, type] of Object.entries(ASSETS)) {
    const body = readFileSync(path.join(dir, file));
    router.get(`/${file}`, (c) => c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' }));
  }
  return router;
}
