/**
 * `npm run openapi`: writes the OpenAPI document of the service (every route of the Weldr, Cloud and
 * Forge APIs, from their zod schemas) into openapi/forge.json and openapi/forge.yaml.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENAPI_FILES, openApiDocument } from '@debian-forge/cli/openapi';

const dir = join(import.meta.dirname, '..', 'openapi');
mkdirSync(dir, { recursive: true });
const doc = await openApiDocument();
writeFileSync(join(dir, OPENAPI_FILES.json), doc.json);
writeFileSync(join(dir, OPENAPI_FILES.yaml), doc.yaml);
const paths = Object.keys((JSON.parse(doc.json) as { paths: object }).paths).length;
process.stdout.write(
  `openapi: ${paths} paths written to ${dir}/${OPENAPI_FILES.json} and ${OPENAPI_FILES.yaml}\n`,
);
