/**
 * What the Forge API shows of a compose: its state with the time it entered each one, priority,
 * worker, failure reason, latest progress, artifacts and, for the OSTree types, the ref, parent and
 * URL it was built with and the commit it made (what an atomic update's next version starts from).
 * One zod schema serves as the response schema (and OpenAPI) of every route that answers with a
 * compose.
 */
import { getDistro, getImageType } from '@debian-forge/composer';
import { COMPOSE_STATES, type Compose, type Store } from '@debian-forge/store';
import { z } from 'zod';
import { ApiErrorCode } from '../errors.ts';
import { composeBuilt } from '../weldr/packages-view.ts';
import type { Progress } from './progress.ts';

const stateTimes = z.object(
  Object.fromEntries(COMPOSE_STATES.map((s) => [s, z.string().optional()])) as Record<
    (typeof COMPOSE_STATES)[number],
    z.ZodOptional<z.ZodString>
  >,
);

export const composeView = z.object({
  id: z.string(),
  state: z.enum(COMPOSE_STATES),
  image_type: z.string(),
  blueprint: z.object({ name: z.string(), version: z.string() }).nullable(),
  priority: z.number().int(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  state_times: stateTimes.describe('when the compose entered each state it has been in'),
  worker: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  progress: z
    .object({ done: z.number().int(), total: z.number().int(), message: z.string().optional() })
    .nullable()
    .describe('latest progress of a building compose: stage `done` of `total` of the pipeline being built'),
  artifacts: z.array(z.object({ filename: z.string(), size: z.number().int(), sha256: z.string() })),
  built: z
    .array(
      z.object({
        name: z.string(),
        version: z.string(),
        arch: z.string(),
        source: z.object({ name: z.string(), version: z.string() }),
      }),
    )
    .describe("the packages built from the blueprint's source packages and installed into the image"),
  ostree: z
    .object({
      ref: z.string(),
      parent: z.string().nullable(),
      url: z.string().nullable(),
      commit: z.string().nullable().describe('the commit the compose made; null until it has made one'),
    })
    .nullable()
    .describe(
      "OSTree types: the commit's ref (the type's default for the distro and architecture when the compose named none), the parent commit and the URL given, and the commit made; null for other types",
    ),
});
export type ComposeView = z.infer<typeof composeView>;

function errorOf(error: unknown): ComposeView['error'] {
  if (error === null || error === undefined) return null;
  const e = error as { code?: unknown; message?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : ApiErrorCode.Unknown,
    message: typeof e.message === 'string' ? e.message : JSON.stringify(error),
  };
}

/** The OSTree part of the view: null for the types that make no commit. */
export function ostreeOf(compose: Compose): ComposeView['ostree'] {
  const type = getImageType(compose.imageType);
  const distro = getDistro(compose.distro);
  if (!type?.defaultOstreeRef || !distro) return null;
  const { ref, parent, url, commit } = compose.ostree;
  return { ref: ref || type.defaultOstreeRef(distro, compose.arch), parent, url, commit };
}

export function viewOf(compose: Compose, store: Store, progress: Progress | undefined): ComposeView {
  return {
    id: compose.uuid,
    state: compose.state,
    image_type: compose.imageType,
    blueprint: compose.blueprintName
      ? { name: compose.blueprintName, version: compose.blueprintVersion }
      : null,
    priority: compose.priority,
    created_at: compose.createdAt,
    started_at: compose.startedAt,
    finished_at: compose.finishedAt,
    state_times: compose.stateTimes,
    worker: compose.workerId,
    error: errorOf(compose.error),
    progress: compose.state === 'BUILDING' ? (progress ?? null) : null,
    artifacts: store.artifacts
      .list(compose.uuid)
      .map((a) => ({ filename: a.filename, size: a.size, sha256: a.sha256 })),
    built: composeBuilt(compose),
    ostree: ostreeOf(compose),
  };
}
