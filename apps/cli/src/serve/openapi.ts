/**
 * The OpenAPI document of the service, as `forge serve` builds its app: a service with a private
 * Redis in a temporary directory, no listeners and no workers, asked for `app.swagger()`.
 * scripts/openapi.ts writes it into openapi/, and a test checks that the copy there is current.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '../version.ts';
import { startService } from './service.ts';

export interface OpenApiFiles {
  /** openapi/forge.json: the document, two-space indented, with a final newline. */
  json: string;
  /** openapi/forge.yaml: the same document as YAML. */
  yaml: string;
}

export const OPENAPI_FILES = { json: 'forge.json', yaml: 'forge.yaml' } as const;

export async function openApiDocument(): Promise<OpenApiFiles> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-openapi-'));
  try {
    const service = await startService({
      stateDir: dir,
      socket: null,
      tcp: null,
      tokens: null,
      workers: 0,
      version: VERSION,
    });
    try {
      await service.app.ready();
      const json = `${JSON.stringify(service.app.swagger(), null, 2)}\n`;
      const yaml = service.app.swagger({ yaml: true });
      return { json, yaml };
    } finally {
      await service.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
