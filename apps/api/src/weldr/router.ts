/**
 * Registers a Weldr route under both API versions (or v1 only) and answers the methods a path
 * lacks with a bare 405, as osbuild-composer does. Route modules get a `WeldrRouter` instead of
 * calling `app.route` themselves.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, HTTPMethods } from 'fastify';

export type WeldrMethod = 'GET' | 'POST' | 'DELETE';

export interface WeldrRouteDef {
  method: WeldrMethod;
  /** Path below `/api/v0|v1`, with Fastify parameters: `/blueprints/info/:names`. */
  path: string;
  /** Served under /api/v1 only (`blueprints/change`, `distros/list`, the upload routes). */
  v1Only?: boolean;
  /** Route schema, for validation and the OpenAPI document. */
  schema?: FastifySchema;
  handler: (request: FastifyRequest, reply: FastifyReply) => unknown;
}

const ALL_METHODS: readonly HTTPMethods[] = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'];

export class WeldrRouter {
  readonly #app: FastifyInstance;
  readonly #methods = new Map<string, Set<HTTPMethods>>();

  constructor(app: FastifyInstance) {
    this.#app = app;
  }

  route(def: WeldrRouteDef): void {
    for (const version of def.v1Only ? ['v1'] : ['v0', 'v1']) {
      const url = `/api/${version}${def.path}`;
      this.#app.route({
        method: def.method,
        url,
        schema: { tags: ['weldr'], ...def.schema },
        handler: def.handler,
      });
      const methods = this.#methods.get(url) ?? new Set<HTTPMethods>();
      methods.add(def.method);
      this.#methods.set(url, methods);
    }
  }

  /** After every route: a bare 405 for each method a registered path does not serve. */
  finish(): void {
    for (const [url, methods] of this.#methods) {
      const others = ALL_METHODS.filter((m) => !methods.has(m) && !(m === 'GET' && methods.has('GET')));
      if (others.length === 0) continue;
      this.#app.route({
        method: others,
        url,
        schema: { hide: true },
        handler: (_request, reply) => reply.code(405).send(),
      });
    }
  }
}
