/** The OpenAPI 3.0 document of the API, generated from the operation table, and a readable HTML page of it. */
import { escapeHtml } from '../../billing/render';
import { ApiReply, type Operation } from './types';

const ACCESS_TEXT: Record<string, string> = {
  public: 'no login', viewer: 'any logged-in user', operator: 'operator or admin', admin: 'admin only',
};

function pathParams(path: string): string[] {
  return path.split('/').filter((p) => p.startsWith(':')).map((p) => p.slice(1));
}

export function openApiDocument(ops: readonly Operation[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of ops) {
    const openPath = op.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters = [
      ...pathParams(op.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...(op.query ?? []).map((q) => ({ name: q.name, in: 'query', required: q.required ?? false, description: q.description, schema: q.schema ?? { type: 'string' } })),
    ];
    const paged = (op.query ?? []).some((q) => q.name === 'cursor');
    const envelope = {
      type: 'object', required: ['data', 'error', 'status'],
      properties: {
        data: op.response ?? {}, error: { type: 'string', nullable: true }, status: { type: 'integer' },
        ...(paged ? { next_cursor: { type: 'string', nullable: true, description: 'the cursor of the next page (?cursor=); null on the last page' } } : {}),
      },
    };
    const content: Record<string, unknown> = { 'application/json': { schema: envelope } };
    for (const type of op.produces ?? []) content[type] = { schema: { type: 'string' } };
    const operation: Record<string, unknown> = {
      operationId: op.name,
      tags: [op.tag],
      summary: op.summary,
      description: [op.description, `Access: ${ACCESS_TEXT[op.access]}.`].filter(Boolean).join('\n\n'),
      parameters,
      responses: {
        200: { description: 'OK', content },
        ...(parameters.length || op.body ? { 400: { description: 'Bad input: the error names the field and the value', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } } : {}),
        ...(op.access !== 'public' ? { 401: { description: 'No valid access token' }, 403: { description: 'The role does not allow this' } } : {}),
      },
      security: op.access === 'public' ? [] : [{ cookie: [] }, { bearer: [] }, { apiKey: [] }],
    };
    if (op.body) {
      // A body whose fields are files (format binary) is a multipart upload or the file itself, not JSON.
      const fileBody = Object.values((op.body.properties ?? {}) as Record<string, { format?: string }>).some((p) => p.format === 'binary');
      const body: Record<string, unknown> = fileBody
        ? { 'multipart/form-data': { schema: op.body }, 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } }
        : { 'application/json': { schema: op.body } };
      if (op.upload && !fileBody) body['multipart/form-data'] = { schema: { type: 'object', properties: { license: { type: 'string', format: 'binary' } } } };
      operation.requestBody = { required: true, content: body };
    }
    (paths[openPath] ??= {})[op.method.toLowerCase()] = operation;
  }
  const tags = [...new Set(ops.map((o) => o.tag))].map((name) => ({ name }));
  return {
    openapi: '3.0.3',
    info: {
      title: 'node-red-contrib-ems API',
      version,
      description: 'The HTTP API of the shipped EMS. Every answer is { data, error, status }; lists answer a page at a time '
        + '(limit, and cursor = the envelope\'s next_cursor of the previous page; a bad limit or cursor is 400 naming it). Log in at /api/auth/login; '
        + 'the access_token cookie, or Authorization: Bearer <access_token>, authenticates every other call.',
    },
    tags,
    paths,
    components: {
      securitySchemes: {
        cookie: { type: 'apiKey', in: 'cookie', name: 'access_token' },
        bearer: { type: 'http', scheme: 'bearer', description: 'an access token, or an API key (emsk_...)' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: {
        Error: { type: 'object', properties: { data: { nullable: true }, error: { type: 'string' }, status: { type: 'integer' } } },
      },
    },
  };
}

/** A self-contained HTML page listing every operation by section, with its parameters and body. */
export function openApiHtml(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
  const bySection = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters as { name: string; in: string; required: boolean; description?: string }[])
        .map((p) => `<li><code>${escapeHtml(p.name)}</code> (${p.in}${p.required ? ', required' : ''}) ${escapeHtml(p.description ?? '')}</li>`).join('');
      const body = op.requestBody
        ? `<pre>${escapeHtml(JSON.stringify(Object.values((op.requestBody as { content: Record<string, { schema: unknown }> }).content)[0].schema, null, 2))}</pre>` : '';
      const html = `<section class="op" id="${escapeHtml(op.operationId)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>`
        + `<p><b>${escapeHtml(op.summary)}</b></p><p>${escapeHtml(op.description ?? '').replace(/\n\n/g, '<br>')}</p>`
        + (params ? `<ul>${params}</ul>` : '') + body + '</section>';
      const tag = (op.tags as string[])[0];
      bySection.set(tag, [...(bySection.get(tag) ?? []), html]);
    }
  }
  const info = doc.info as { title: string; version: string; description: string };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title><style>
body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2em}.op{margin:1em 0;padding:.5em 1em;border-left:4px solid #8bc}
.m{display:inline-block;min-width:4em;font-size:.8em;padding:2px 6px;border-radius:3px;color:#fff;background:#48a}
.m.post{background:#4a4}.m.put{background:#c80}.m.delete{background:#c44}pre{background:#f6f6f6;padding:.5em;overflow:auto}
</style></head><body><h1>${escapeHtml(info.title)} ${escapeHtml(info.version)}</h1><p>${escapeHtml(info.description)}</p>`
    + `<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a></p>`
    + `<nav><ul>${[...bySection.keys()].map((t) => `<li><a href="#s-${escapeHtml(t)}">${escapeHtml(t)}</a></li>`).join('')}</ul></nav>`
    + [...bySection].map(([t, ops]) => `<h2 id="s-${escapeHtml(t)}">${escapeHtml(t)}</h2>${ops.join('')}`).join('')
    + '</body></html>';
}

/** The two documentation operations; `all` is read when they run, so they list every operation. */
export function docsOperations(all: () => readonly Operation[], version: string): Operation[] {
  return [
    {
      name: 'docs.openapi', method: 'GET', path: '/api/openapi.json', access: 'public', tag: 'Documentation',
      summary: 'This API as an OpenAPI 3.0 document',
      run: () => new ApiReply({ raw: { contentType: 'application/json; charset=utf-8', body: JSON.stringify(openApiDocument(all(), version), null, 2) } }),
    },
    {
      name: 'docs.page', method: 'GET', path: '/api/docs', access: 'public', tag: 'Documentation',
      summary: 'This API as a readable page',
      produces: ['text/html'],
      run: () => new ApiReply({ raw: { contentType: 'text/html; charset=utf-8', body: openApiHtml(openApiDocument(all(), version)) } }),
    },
  ];
}
