import { startTestApp, TestApp } from 'test/support/test-app';

type Schema = { $ref?: string; type?: string; description?: string; properties?: Record<string, Schema>; items?: Schema; allOf?: Schema[] };
type Response = { description?: string; content?: Record<string, { schema?: Schema }> };
type Document = {
  paths: Record<string, Record<string, { responses?: Record<string, Response> }>>;
  components: { schemas: Record<string, Schema> };
};

const PROBLEM = { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } };

/** Every property of every component schema, as `Schema.property`. */
function properties(doc: Document): { at: string; name: string; schema: Schema }[] {
  return Object.entries(doc.components.schemas).flatMap(([schemaName, schema]) =>
    Object.entries(schema.properties ?? {}).map(([name, property]) => ({ at: `${schemaName}.${name}`, name, schema: property })),
  );
}

describe('The OpenAPI document against what the service sends (e2e)', () => {
  let t: TestApp;
  let doc: Document;
  beforeAll(async () => {
    t = await startTestApp();
    doc = (await t.http.get('/docs-json').expect(200)).body as Document;
  });
  afterAll(async () => {
    await t.close();
  });

  const responsesOf = (path: string, method = 'get') => doc.paths[path][method].responses ?? {};

  it('declares every 4xx and 5xx answer as problem+json with ProblemDto, as the filter sends them', () => {
    const errors = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, operation]) =>
        Object.entries(operation.responses ?? {})
          .filter(([status]) => /^[45]/.test(status))
          .map(([status, response]) => ({ at: `${method} ${path} ${status}`, content: response.content })),
      ),
    );
    expect(errors.length).toBeGreaterThan(200);
    expect(errors.filter((e) => JSON.stringify(e.content) !== JSON.stringify(PROBLEM))).toEqual([]);
    // API.md: {type, title, status, detail, errors?}.
    expect(doc.components.schemas.ProblemDto).toMatchObject({ required: ['type', 'title', 'status', 'detail'] });
  });

  it('declares 400 on every route with a path id (a non-UUID is refused), and on a document upload', () => {
    const undeclared = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => (operation as { parameters?: { in: string }[] }).parameters?.some((p) => p.in === 'path'))
        .filter(([, operation]) => !operation.responses?.['400'])
        .map(([method]) => `${method} ${path}`),
    );
    expect(undeclared).toEqual([]);
    expect(responsesOf('/api/v1/applications/{id}/documents', 'post')['400'].description).toMatch(/empty file/);
  });

  it('requires items and nextCursor in every page of a list, as API.md promises them', () => {
    const pages = Object.entries(doc.components.schemas).filter(([, schema]) => schema.properties?.items && schema.properties?.nextCursor);
    expect(pages.length).toBeGreaterThan(8);
    for (const [name, schema] of pages) expect([name, (schema as { required?: string[] }).required]).toEqual([name, expect.arrayContaining(['items', 'nextCursor'])]);
  });

  it('pages lists 20 at a time by default, and the short lists read whole (decisions, questions, conflicts) 100', () => {
    const defaultLimit = (path: string) =>
      ((doc.paths[path].get as unknown as { parameters: { name: string; schema: { default?: number } }[] }).parameters.find((p) => p.name === 'limit')?.schema.default);
    expect(['/api/v1/applications', '/api/v1/applications/{id}/history', '/api/v1/notifications'].map(defaultLimit)).toEqual([20, 20, 20]);
    expect(['/api/v1/applications/{id}/decisions', '/api/v1/applications/{id}/info-requests', '/api/v1/users/{id}/conflicts'].map(defaultLimit)).toEqual([100, 100, 100]);
  });

  it("keeps a file route's own media types on its 200 only", () => {
    const exported = responsesOf('/api/v1/disbursements/export');
    expect(exported['200'].content).toEqual({ 'text/csv': { schema: { type: 'string' } } });
    expect(exported['409'].content).toEqual(PROBLEM);
    expect(exported['401'].content).toEqual(PROBLEM);

    const file = responsesOf('/api/v1/applications/{id}/documents/{docId}/content');
    expect(Object.keys(file['200'].content ?? {}).sort()).toEqual(['application/pdf', 'image/jpeg', 'image/png']);
    expect(file['403'].content).toEqual(PROBLEM);

    const report = responsesOf('/api/v1/reconciliation/report');
    expect(report['200'].content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/ReconciliationReportDto' } },
      'text/csv': { schema: { type: 'string' } },
    });
    expect(report['400'].content).toEqual(PROBLEM);
  });

  it('types every amount in minor units as an integer, and describes every amount so', () => {
    const all = properties(doc);
    const money = all.filter((p) => /minor units/i.test(p.schema.description ?? ''));
    expect(money.length).toBeGreaterThan(60);
    expect(money.filter((p) => p.schema.type !== 'integer').map((p) => `${p.at}: ${p.schema.type}`)).toEqual([]);

    // The other way round: a number whose name says money must say "minor units" (so the check above covers it).
    const MONEY_NAME = /amount|cost|income|assets|debts|aid|balance|total|received|available|committed|disbursed|released|returned|reconciled|approved|outOfPocket|^subsistence$|capacityToPay|^(hsct|ist|supportive)$|roundingUnit/i;
    const numeric = all.filter((p) => p.schema.type === 'number' || p.schema.type === 'integer');
    expect(numeric.filter((p) => MONEY_NAME.test(p.name) && !money.includes(p)).map((p) => p.at)).toEqual([]);

    // Ratios and laboratory values are not money and stay numbers.
    expect(doc.components.schemas.AssessmentDto.properties?.burdenRatio?.type).toBe('number');
    for (const lab of ['anc', 'platelets', 'reticulocytes']) expect(doc.components.schemas.MedicalDto.properties?.[lab]?.type).toBe('number');
  });
});
