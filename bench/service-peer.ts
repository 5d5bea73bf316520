/**
 * The peer of bench/service.ts: a bare Fastify server in a process of its own, answering each GET
 * URL of a JSON file (`{ "/api/status": {...}, "/api/v0/blueprints/list?limit=1000": {...} }`)
 * with that body, as forge serve answered it in the same run, and nothing else (no token, no
 * schema, no database): one route per path, the query picking the body. It prints its address.
 *
 *   node --import tsx bench/service-peer.ts BODIES.json
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const file = process.argv[2];
if (!file) throw new Error('usage: service-peer.ts BODIES.json');
const bodies = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

const app = Fastify({ logger: false });
const paths = new Set(Object.keys(bodies).map((url) => url.split('?')[0] as string));
for (const path of paths) {
  app.get(path, async (request, reply) => bodies[request.url] ?? reply.code(404).send());
}
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${address}\n`);
process.once('SIGTERM', () => void app.close());
