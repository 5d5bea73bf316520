/**
 * Cloud API v2 composes: POST /compose (201 ComposeId), GET /composes/ (an array of ComposeStatus),
 * GET /composes/{id} (ComposeStatus with image_status), DELETE /composes/{id}, and
 * /composes/{id}/metadata, /logs and /download.
 *
 * Image status: PENDING and QUEUED are `pending`, BUILDING `building`, COMPLETED `success`, FAILED
 * and CANCELLED `failure` (with the reason as `error`). One image request per compose.
 *
 * The routes see only the composes the Cloud API started: a compose of Weldr or the Forge API is
 * answered as an unknown one, 404 with composer's "job does not exist" as `details`, the words
 * composer-cli looks for before it asks Weldr instead. The one upload target is `local` (the image
 * stays here for download), which composer-cli sends with every `compose start FILE.toml TYPE`.
 */
import { BlueprintErrorCode, type BlueprintIssue, cryptUsers } from '@debian-forge/blueprint';
import { type Compose, isTerminal, type Store } from '@debian-forge/store';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ImageMissingError, imageOf, sendImage } from '../compose-image.ts';
import { type AppDeps, composeService } from '../deps.ts';
import { ApiError, ComposeErrorCode, ERROR_ANSWERS } from '../errors.ts';
import type { ComposeRequest } from '../services/composes.ts';
import { builtPkgSpec, composeBuilt, composePackages } from '../weldr/packages-view.ts';
import { type CloudBlueprint, cloudBlueprint, invalidBlueprint } from './blueprint.ts';
import { CLOUD_PREFIX } from './prefix.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Cloud image type names that mean one of ours (ours are accepted as they are). */
const IMAGE_TYPE_ALIASES: Readonly<Record<string, string>> = {
  'guest-image': 'qcow2',
  'minimal-raw': 'raw',
  'edge-commit': 'debian-atomic-commit',
  'iot-commit': 'debian-atomic-commit',
};

const repository = z.object({
  baseurl: z.string().optional(),
  gpgkey: z.string().optional(),
  check_gpg: z.boolean().optional(),
  rhsm: z.boolean().optional(),
});

const imageRequest = z.object({
  architecture: z.string(),
  image_type: z.string(),
  repositories: z.array(repository).optional(),
  ostree: z
    .object({ url: z.string().optional(), ref: z.string().optional(), parent: z.string().optional() })
    .optional(),
  size: z.number().int().nonnegative().optional(),
  upload_options: z.record(z.string(), z.unknown()).optional(),
  upload_targets: z
    .array(z.object({ type: z.string(), upload_options: z.record(z.string(), z.unknown()).optional() }))
    .optional(),
});

const packageRef = z.object({ name: z.string(), version: z.string().optional() });

// Loose: every key goes on to the blueprint schema, which names what it does not take.
const blueprint = z
  .looseObject({
    name: z.string(),
    version: z.string().optional(),
    description: z.string().optional(),
    distro: z.string().optional(),
    packages: z.array(packageRef).optional(),
    modules: z.array(packageRef).optional(),
    customizations: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('A blueprint in its JSON form, checked as Weldr checks a pushed one');

export const composeRequest = z.object({
  distribution: z.string(),
  image_request: imageRequest.optional(),
  image_requests: z.array(imageRequest).optional(),
  customizations: z.record(z.string(), z.unknown()).optional(),
  blueprint: blueprint.optional(),
  koji: z.unknown().optional(),
});
type CloudComposeRequest = z.infer<typeof composeRequest>;

const composeId = z.object({ id: z.string(), kind: z.literal('ComposeId'), href: z.string() });
const deleted = z.object({ id: z.string(), kind: z.literal('ComposeDeleteStatus'), href: z.string() });
const idParams = z.object({ id: z.string() });

function href(id: string, tail = ''): string {
  return `${CLOUD_PREFIX}/composes/${id}${tail}`;
}

/**
 * The compose service's request for a Cloud compose request, with its blueprint made by
 * cloudBlueprint (the service checks that blueprint as it checks Weldr's).
 */
export function composeRequestOf(body: CloudComposeRequest): ComposeRequest & { cloud: CloudBlueprint } {
  const requests = body.image_requests ?? (body.image_request ? [body.image_request] : []);
  if (requests.length !== 1) {
    throw new ApiError(400, 'InvalidNumberOfImageBuilds', 'a compose takes exactly one image request');
  }
  if (body.customizations && body.blueprint) {
    throw new ApiError(
      400,
      'BlueprintOrCustomizations',
      'give either customizations or a blueprint, not both',
    );
  }
  const image = requests[0] as z.infer<typeof imageRequest>;
  checkUploads(image);
  const cloud = cloudBlueprint(
    {
      ...(body.blueprint ? { blueprint: body.blueprint } : {}),
      ...(body.customizations ? { customizations: body.customizations } : {}),
      imageRequestPath: body.image_requests ? ['image_requests', 0] : ['image_request'],
    },
    image.repositories ?? [],
  );
  const ostree = Object.fromEntries(
    Object.entries(image.ostree ?? {}).filter(([, v]) => v !== undefined && v !== ''),
  );
  return {
    origin: { api: 'cloud', request: requestToKeep(body) },
    blueprint: cloud.blueprint,
    cloud,
    imageType: IMAGE_TYPE_ALIASES[image.image_type] ?? image.image_type,
    distro: body.distribution,
    arch: image.architecture,
    ...(image.size ? { size: image.size } : {}),
    ...(Object.keys(ostree).length > 0 ? { ostree } : {}),
  };
}

/**
 * The uploads an image request asks for: none, or one `local` target (composer-cli sends
 * `{"type": "local", "upload_options": {}}`), which keeps the image here for download as every
 * compose of this service does. Uploads to clouds are refused, whether named by a target or by
 * options alone (composer's upload to the image type's own cloud), rather than built and not sent.
 */
function checkUploads(image: z.infer<typeof imageRequest>): void {
  const targets = image.upload_targets ?? [];
  const other = targets.find((t) => t.type !== 'local');
  if (other) {
    throw new ApiError(
      400,
      'InvalidUploadTarget',
      `upload target type ${JSON.stringify(other.type)} is not supported: the only one is "local" (the image is kept for download)`,
    );
  }
  if (targets.length > 1) {
    throw new ApiError(400, 'InvalidUploadTarget', 'an image request takes one upload target at most');
  }
  if (Object.keys(image.upload_options ?? {}).length > 0) {
    throw new ApiError(
      400,
      'InvalidUploadTarget',
      'uploads to clouds are not supported: leave out upload_options (the image is kept for download)',
    );
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `users` with their passwords as a stored blueprint keeps them; anything else as it is. */
function withCryptedUsers(users: unknown): unknown {
  return Array.isArray(users) &&
    users.every((u) => isRecord(u) && ['string', 'undefined'].includes(typeof u.password))
    ? cryptUsers(users as { password?: string }[])
    : users; // not a list of users: the blueprint's check refuses the request
}

/**
 * The request a compose keeps for its metadata: as submitted, but with every user password as the
 * compose's blueprint keeps it (hashed), so no plain text reaches the database or an answer.
 */
function requestToKeep(body: CloudComposeRequest): Record<string, unknown> {
  const keep: Record<string, unknown> = { ...body };
  const bpCustomizations = body.blueprint?.customizations;
  if (body.blueprint && isRecord(bpCustomizations) && 'user' in bpCustomizations) {
    keep.blueprint = {
      ...body.blueprint,
      customizations: { ...bpCustomizations, user: withCryptedUsers(bpCustomizations.user) },
    };
  }
  if (body.customizations && 'users' in body.customizations) {
    keep.customizations = { ...body.customizations, users: withCryptedUsers(body.customizations.users) };
  }
  return keep;
}

/**
 * The compose service's refusals in the Cloud API's words: a refused blueprint names the request's
 * keys; a code with a `cloud` id in ERROR_ANSWERS is that id (400); others pass as they are.
 */
function cloudSubmitError(err: unknown, cloud: CloudBlueprint): never {
  if (!(err instanceof ApiError)) throw err;
  if (err.code === BlueprintErrorCode.Invalid)
    throw invalidBlueprint(err.details as BlueprintIssue[], cloud.requestPath);
  const id = ERROR_ANSWERS[err.code]?.cloud;
  if (id) throw new ApiError(400, id, err.message);
  throw err;
}

function imageStatusOf(compose: Compose) {
  switch (compose.state) {
    case 'PENDING':
    case 'QUEUED':
      return { status: 'pending' as const };
    case 'BUILDING':
      return { status: 'building' as const };
    case 'COMPLETED':
      return { status: 'success' as const };
    case 'FAILED':
    case 'CANCELLED': {
      const e = (compose.error ?? {}) as { code?: string; message?: string };
      return {
        status: 'failure' as const,
        error: { id: 0, reason: e.message ?? compose.state.toLowerCase(), details: { code: e.code ?? '' } },
      };
    }
  }
}

/** The Cloud API's ComposeStatus. */
export function composeStatus(compose: Compose) {
  const image = imageStatusOf(compose);
  const status = image.status === 'success' ? 'success' : image.status === 'failure' ? 'failure' : 'pending';
  return {
    id: compose.uuid,
    kind: 'ComposeStatus',
    href: href(compose.uuid),
    status,
    image_status: image,
    image_statuses: [image],
  };
}

/** composer's 404 for a compose it does not know; composer-cli looks for its `details`. */
function composeNotFound(id: string): ApiError {
  return new ApiError(404, 'ComposeNotFound', `compose ${id} does not exist`, 'job does not exist');
}

/** A compose the Cloud API started (see the top of this file). */
function composeOf(store: Store, id: string): Compose {
  if (!UUID_RE.test(id)) throw new ApiError(400, 'InvalidComposeId', `${id} is not a compose id`);
  const compose = store.composes.get(id);
  if (compose?.api !== 'cloud') throw composeNotFound(id);
  return compose;
}

export async function cloudComposeRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store } = deps;
  const tags = ['cloud'];

  app.post(
    '/compose',
    {
      schema: {
        tags,
        summary: 'Start a compose',
        body: composeRequest,
        response: { 201: composeId },
      },
    },
    async (request, reply) => {
      const { cloud, ...req } = composeRequestOf(request.body as CloudComposeRequest);
      let compose: Compose;
      try {
        compose = await composeService(deps).submit(req);
      } catch (err) {
        cloudSubmitError(err, cloud);
      }
      return reply.code(201).send({ id: compose.uuid, kind: 'ComposeId' as const, href: href(compose.uuid) });
    },
  );

  app.get(
    '/composes/',
    { schema: { tags, summary: 'The status of every compose the Cloud API started, by id' } },
    async () => {
      const { total } = store.composes.list({ apis: ['cloud'], limit: 0 });
      const { items } = store.composes.list({ apis: ['cloud'], limit: total });
      // An array, ordered by id, as composer answers it (composer-cli reads an array).
      return items.sort((a, b) => (a.uuid < b.uuid ? -1 : 1)).map(composeStatus);
    },
  );

  app.get(
    '/composes/:id',
    { schema: { tags, summary: 'The status of a compose', params: idParams } },
    async (request) => composeStatus(composeOf(store, (request.params as { id: string }).id)),
  );

  app.delete(
    '/composes/:id',
    {
      schema: {
        tags,
        summary: 'Delete a finished compose with its image and logs',
        params: idParams,
        response: { 200: deleted },
      },
    },
    async (request) => {
      const { uuid, state } = composeOf(store, (request.params as { id: string }).id);
      if (!isTerminal(state)) {
        throw new ApiError(
          400,
          'ComposeBadState',
          `compose ${uuid} is ${state}: only a finished compose can be deleted`,
        );
      }
      try {
        await composeService(deps).delete(uuid);
      } catch (err) {
        // Deleted meanwhile by another request.
        if (err instanceof ApiError && err.code === ComposeErrorCode.NotFound) throw composeNotFound(uuid);
        throw err;
      }
      return {
        id: uuid,
        kind: 'ComposeDeleteStatus' as const,
        href: `${CLOUD_PREFIX}/composes/delete/${uuid}`,
      };
    },
  );

  app.get(
    '/composes/:id/metadata',
    { schema: { tags, summary: "A compose's request and packages", params: idParams } },
    async (request) => {
      const compose = composeOf(store, (request.params as { id: string }).id);
      return {
        id: compose.uuid,
        kind: 'ComposeMetadata',
        href: href(compose.uuid, '/metadata'),
        request: compose.request,
        packages: [
          ...composePackages(compose).map((p) => ({
            type: 'deb',
            name: p.name,
            version: p.version,
            release: p.release,
            epoch: p.epoch,
            arch: p.arch,
            sigmd5: '',
            checksum: `sha256:${p.sha256}`,
          })),
          // Built in the compose from the blueprint's source packages: from no repository, no checksum.
          ...composeBuilt(compose).map((p) => {
            const { remote_location: _, ...spec } = builtPkgSpec(p);
            return { type: 'deb', ...spec, sigmd5: '' };
          }),
        ],
      };
    },
  );

  app.get(
    '/composes/:id/logs',
    { schema: { tags, summary: "A compose's build log", params: idParams } },
    async (request) => {
      const compose = composeOf(store, (request.params as { id: string }).id);
      const lines = store.composes.log.read(compose.uuid).map((l) => l.line);
      return {
        id: compose.uuid,
        kind: 'ComposeLogs',
        href: href(compose.uuid, '/logs'),
        image_builds: [lines.length === 0 ? '' : `${lines.join('\n')}\n`],
      };
    },
  );

  app.get(
    '/composes/:id/download',
    {
      schema: {
        tags,
        summary: 'The image of a finished compose (supports Range requests)',
        params: idParams,
      },
    },
    async (request, reply) => {
      const compose = composeOf(store, (request.params as { id: string }).id);
      const image = compose.state === 'COMPLETED' ? imageOf(store, compose) : undefined;
      if (!image)
        throw new ApiError(
          400,
          'ComposeNotFinished',
          `compose ${compose.uuid} has no image (${composeStatus(compose).status})`,
        );
      try {
        return await sendImage(request, reply, deps.config.artifactsDir, compose, image);
      } catch (err) {
        if (err instanceof ImageMissingError) throw new ApiError(500, 'ArtifactMissing', err.message);
        throw err;
      }
    },
  );
}
