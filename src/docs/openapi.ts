import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** OpenAPI document for every route, with Swagger UI at /docs and the JSON at /docs/openapi.json. */
export function setupOpenApi(app: NestFastifyApplication) {
  const config = new DocumentBuilder()
    .setTitle('Tollgate')
    .setDescription(
      'Metered, OpenAI-compatible LLM gateway. Tenant endpoints (/v1) take `Authorization: Bearer sk-...`; ' +
        'admin endpoints (/admin) take `Authorization: Bearer $ADMIN_TOKEN`. Errors use the OpenAI shape ' +
        '{"error": {message, type, param, code}}; amounts are decimal strings in USD.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Tenant API key (sk-...) or, for /admin, the admin token' })
    .build();
  // Built on first request, not at start-up.
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
  });
}
