import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { withPathIdRefusals, withProblemResponses } from 'src/common/problem/problem-openapi';
import { ProblemDto } from 'src/common/problem/problem.dto';

/** /docs (Swagger UI) and /docs-json, generated from the controllers and DTOs. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Sprout API')
    .setDescription(
      'Grant management for a hospital charity fund paying the treatment of children with aplastic anemia. ' +
        'Money is always an integer in minor units (fen, CNY). Errors are RFC 9457 problem+json.',
    )
    .setVersion('1.0.0')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'Short-lived access token from POST /auth/login. Follows RFC8725 (JWT best current practices): HS256 only (alg pinned, ' +
        '"none" refused), issuer and audience checked, 15-minute expiry, bound to a revocable session and token version.',
    })
    .build();
  // Built on the first request for /docs or /docs-json (then cached), not at boot: it keeps cold start shorter.
  const buildDocument = () => {
    const document = SwaggerModule.createDocument(app, config, { extraModels: [ProblemDto] });
    withIntegerFormats(document);
    withPathIdRefusals(document);
    withProblemResponses(document);
    // The public API of this deployment, served from wherever the document is (families, staff and hospitals use it).
    document.servers = [{ url: '/', description: 'production: this deployment, relative to where the document is served', 'x-internal': false } as (typeof document.servers & object)[number]];
    return document;
  };
  SwaggerModule.setup('docs', app, buildDocument, { jsonDocumentUrl: 'docs-json', useGlobalPrefix: false });
}

/**
 * Every integer in this API is a JavaScript safe integer (money in fen up to 10^12, counts, versions): say int64 where
 * the generator left the format out, so clients do not assume 32 bits.
 */
function withIntegerFormats(node: unknown): void {
  if (Array.isArray(node)) node.forEach(withIntegerFormats);
  else if (node && typeof node === 'object') {
    const schema = node as Record<string, unknown>;
    if (schema.type === 'integer' && schema.format === undefined) schema.format = 'int64';
    Object.values(schema).forEach(withIntegerFormats);
  }
}
