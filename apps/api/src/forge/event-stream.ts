/**
 * `GET /events`: the compose events as server-sent events (text/event-stream): `state` (a compose
 * entered a state), `progress` (stage n of m) and `log` (a line of a build's log), each `data` the
 * event's JSON. `?compose=<uuid>` follows one compose: the stream opens with its current state and
 * closes after it reaches an end state (COMPLETED, FAILED, CANCELLED). A comment line goes out every
 * `heartbeat` seconds (default 15) so proxies keep the connection; a client that falls more than
 * 1 MiB behind is disconnected; when the API stops, every stream is ended.
 */
import type { ServerResponse } from 'node:http';
import { isTerminal } from '@debian-forge/store';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import type { ComposeEvent } from '../events.ts';
import { mustGetCompose } from '../services/compose-rows.ts';

const MAX_BEHIND = 1024 * 1024;

const query = z.object({
  compose: z.string().optional().describe('follow this compose only, until it ends'),
  heartbeat: z.coerce.number().int().min(1).max(300).default(15).describe('seconds between heartbeats'),
});

export async function eventRoutes(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    '/events',
    {
      schema: {
        tags: ['forge'],
        summary: 'Compose events as server-sent events (state, progress, log)',
        description:
          "text/event-stream: `event: state|progress|log`, `data: <JSON>`. With `compose`, the stream starts with that compose's current state and ends after its end state.",
        querystring: query,
      },
    },
    async (request, reply) => {
      const { compose: asked, heartbeat } = request.query;
      const current = asked === undefined ? undefined : mustGetCompose(deps.store, asked);
      const uuid = current?.uuid; // events carry the stored (lower-case) form of the id
      reply.hijack();
      const res: ServerResponse = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let seq = 0;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearInterval(timer);
        open.delete(end);
        res.end();
      };
      const write = (text: string) => {
        if (ended) return;
        res.write(text);
        if (res.writableLength > MAX_BEHIND) end();
      };
      const send = (event: ComposeEvent) => {
        write(`id: ${++seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        if (uuid !== undefined && event.type === 'state' && isTerminal(event.state)) end();
      };
      const unsubscribe = deps.events.subscribe((event) => {
        if (uuid === undefined || event.uuid === uuid) send(event);
      });
      const timer = setInterval(() => write(': heartbeat\n\n'), heartbeat * 1000);
      open.add(end);
      res.on('close', end);
      write(': forge events\n\n');
      if (current) {
        const at = current.stateTimes[current.state] ?? current.createdAt;
        send({ type: 'state', uuid: current.uuid, state: current.state, at });
      }
    },
  );
}
