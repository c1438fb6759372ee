import { ROLES, Role } from 'src/common/auth/roles';
import { TestApp } from 'test/support/test-app';

/**
 * The operations of the live OpenAPI document (`GET /docs-json`), so the security suites cover every route that
 * exists when they run — including routes added after they were written — instead of a hand-kept list.
 */
export type Access = { public: true } | { roles: Role[] };

export type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  nullable?: boolean;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
};

export type Operation = {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI template, e.g. `/api/v1/applications/{id}`. */
  path: string;
  key: string;
  access: Access;
  pathParams: string[];
  /** The resolved JSON body schema, or null when the operation takes none. */
  jsonBody: Schema | null;
  multipart: boolean;
  requiredQuery: { name: string; schema: Schema }[];
  queryParams: { name: string; schema: Schema }[];
};

export type OpenApiDocument = {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, Schema> };
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export async function fetchOpenApi(t: TestApp): Promise<OpenApiDocument> {
  const res = await t.http.get('/docs-json').expect(200);
  return res.body as OpenApiDocument;
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as
        | { 'x-access'?: Access; parameters?: { in: string; name: string; required?: boolean; schema?: Schema }[]; requestBody?: { content: Record<string, { schema: Schema }> } }
        | undefined;
      if (!op) continue;
      const access = op['x-access'];
      if (!access) throw new Error(`${method.toUpperCase()} ${path} has no x-access extension: every route must declare who may call it`);
      const content = op.requestBody?.content ?? {};
      out.push({
        method,
        path,
        key: `${method.toUpperCase()} ${path}`,
        access,
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        jsonBody: content['application/json'] ? resolve(doc, content['application/json'].schema) : null,
        multipart: Boolean(content['multipart/form-data']),
        requiredQuery: (op.parameters ?? []).filter((p) => p.in === 'query' && p.required).map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
      });
    }
  }
  return out;
}

/** Follows `$ref` and merges `allOf` one level deep (enough for the DTOs Nest's generator emits). */
export function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`unresolved ${schema.$ref}`);
    return resolve(doc, target);
  }
  if (schema.allOf?.length) {
    const parts = schema.allOf.map((s) => resolve(doc, s));
    return parts.reduce<Schema>(
      (acc, p) => ({ ...acc, ...p, properties: { ...(acc.properties ?? {}), ...(p.properties ?? {}) }, required: [...(acc.required ?? []), ...(p.required ?? [])] }),
      { type: 'object' },
    );
  }
  return schema;
}

export const isPublic = (access: Access): access is { public: true } => 'public' in access && access.public === true;
export const allowedRoles = (access: Access): Role[] => (isPublic(access) ? [...ROLES] : access.roles);

/** Fills `{name}` placeholders; unknown names get `fallback`. */
export function fillPath(path: string, values: Record<string, string>, fallback: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? fallback));
}

/** `url` with a plausible value for each required query parameter (dates, uuids, enums), so the route gets past them. */
export function withRequiredQuery(op: Operation, url: string, uuid: string): string {
  if (!op.requiredQuery.length) return url;
  const sample = (schema: Schema): string => {
    if (schema.enum?.length) return String(schema.enum[0]);
    if (schema.format === 'date') return '2026-01-01';
    if (schema.format === 'uuid') return uuid;
    if (schema.type === 'integer' || schema.type === 'number') return '1';
    return 'x';
  };
  const query = op.requiredQuery.map((q) => `${encodeURIComponent(q.name)}=${encodeURIComponent(sample(q.schema))}`).join('&');
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

export function request(t: TestApp, op: Pick<Operation, 'method'>, url: string) {
  return t.http[op.method](url);
}
