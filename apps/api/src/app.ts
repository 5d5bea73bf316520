/**
 * Builds the Fastify application with everything it needs passed in (`buildApp`), apart from
 * listening (`listen` in server.ts), so tests drive it with `app.inject` or a real socket.
 */

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { cloudError, cloudPlugin } from './cloud/plugin.ts';
import { CLOUD_PREFIX } from './cloud/prefix.ts';
import type { AppDeps } from './deps.ts';
import { forgeError, forgePlugin } from './forge/plugin.ts';
import { FORGE_PREFIX } from './forge/prefix.ts';
import { authPlugin } from './plugins/auth.ts';
import { jsonDepthPlugin } from './plugins/json-depth.ts';
import { webPlugin } from './plugins/web.ts';
import { createPackageService } from './services/packages.ts';
import { WELDR_NOT_FOUND, weldrPlugin } from './weldr/plugin.ts';

export interface BuildAppOptions {
  /** Fastify's logger option (a pino logger or its options); off by default. */
  logger?: FastifyServerOptions['loggerInstance'] | boolean;
}

export async function buildApp(given: AppDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(typeof options.logger === 'object'
      ? { loggerInstance: options.logger }
      : { logger: options.logger ?? false }),
    bodyLimit: given.config.bodyLimit,
    // Weldr paths carry comma lists of names and compose ids (37 bytes each): beyond find-my-way's 100.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 16 * 1024 },
  });
  const deps: AppDeps = {
    ...given,
    packages:
      given.packages ??
      createPackageService({
        stateDir: given.config.stateDir,
        store: given.store,
        warn: (message) => app.log.warn(message),
      }),
  };
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Debian Forge',
        description:
          'Weldr API v0/v1 (lorax-composer compatible), a Cloud API v2 subset and the Forge API. Over TCP every request needs `Authorization: Bearer <token>`.',
        version: deps.config.version,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'weldr', description: 'Weldr API (composer-cli, cockpit-composer)' },
        { name: 'cloud', description: 'Cloud API v2 subset' },
        { name: 'forge', description: 'Forge API' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(authPlugin, { tokens: deps.config.tokens });
  // Before the API families: Weldr drops every parser in its scope and reads bodies as text itself.
  await app.register(jsonDepthPlugin);

  await app.register(weldrPlugin, deps);
  await app.register(cloudPlugin, { prefix: CLOUD_PREFIX, ...deps });
  await app.register(forgePlugin, { prefix: FORGE_PREFIX, ...deps });
  if (deps.config.webRoot !== undefined) await app.register(webPlugin, { root: deps.config.webRoot });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url;
    if (url.startsWith(`${CLOUD_PREFIX}/`) || url === CLOUD_PREFIX) {
      return reply
        .code(404)
        .send(cloudError(404, 'NotFound', `no route ${request.method} ${url.split('?')[0]}`));
    }
    if (url.startsWith(`${FORGE_PREFIX}/`) || url === FORGE_PREFIX) {
      return reply.code(404).send(forgeError('NotFound', `no route ${request.method} ${url.split('?')[0]}`));
    }
    return reply.code(404).send(WELDR_NOT_FOUND);
  });
  return app;
}
