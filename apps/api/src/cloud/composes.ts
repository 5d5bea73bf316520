/**
 * Cloud API v2 composes: POST /compose (201 ComposeId), GET /composes/, GET /composes/{id}
 * (ComposeStatus with image_status), /composes/{id}/metadata, /logs and /download.
 *
 * Image status: PENDING and QUEUED are `pending`, BUILDING `building`, COMPLETED `success`, FAILED
 * and CANCELLED `failure` (with the reason as `error`). One image request per compose.
 */
import { BlueprintErrorCode, type BlueprintIssue } from '@debian-forge/blueprint';
import { ComposerErrorCode } from '@debian-forge/composer';
import type { Compose, Store } from '@debian-forge/store';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { composePackages, composeService, ImageMissingError, imageOf, sendImage } from '../compose-http.ts';
import { ApiError } from '../errors.ts';
import { ComposeErrorCode, type ComposeRequest } from '../services/composes.ts';
import { type CloudBlueprint, cloudBlueprint, invalidBlueprint } from './blueprint.ts';
import { CLOUD_PREFIX } from './plugin.ts';

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
  upload_options: z.unknown().optional(),
  upload_targets: z.array(z.unknown()).optional(),
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
  if ((image.upload_targets?.length ?? 0) > 0) {
    throw new ApiError(400, 'InvalidUploadTarget', 'uploads to clouds are not supported; download the image');
  }
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
    blueprint: cloud.blueprint,
    cloud,
    imageType: IMAGE_TYPE_ALIASES[image.image_type] ?? image.image_type,
    distro: body.distribution,
    arch: image.architecture,
    ...(image.size ? { size: image.size } : {}),
    ...(Object.keys(ostree).length > 0 ? { ostree } : {}),
  };
}

/** The compose service's refusals in the Cloud API's words. */
function cloudSubmitError(err: unknown, cloud: CloudBlueprint): never {
  if (!(err instanceof ApiError)) throw err;
  switch (err.code) {
    case BlueprintErrorCode.Invalid:
      throw invalidBlueprint(err.details as BlueprintIssue[], cloud.requestPath);
    case ComposerErrorCode.Distro:
      throw new ApiError(400, 'UnsupportedDistribution', err.message);
    case ComposerErrorCode.ImageType:
      throw new ApiError(400, 'UnsupportedImageType', err.message);
    case ComposerErrorCode.Arch:
      throw new ApiError(400, 'UnsupportedArchitecture', err.message);
    case ComposeErrorCode.BadRequest:
      throw new ApiError(400, 'BadRequest', err.message);
    default:
      throw err;
  }
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

function composeOf(store: Store, id: string): Compose {
  if (!UUID_RE.test(id)) throw new ApiError(400, 'InvalidComposeId', `${id} is not a compose id`);
  const compose = store.composes.get(id);
  if (!compose) throw new ApiError(404, 'ComposeNotFound', `compose ${id} does not exist`);
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

  app.get('/composes/', { schema: { tags, summary: 'Every compose, newest first' } }, async () => {
    const { items, total } = store.composes.list({ limit: store.composes.list({ limit: 0 }).total });
    return { kind: 'ComposeList', page: 0, size: items.length, total, items: items.map(composeStatus) };
  });

  app.get(
    '/composes/:id',
    { schema: { tags, summary: 'The status of a compose', params: idParams } },
    async (request) => composeStatus(composeOf(store, (request.params as { id: string }).id)),
  );

  app.get(
    '/composes/:id/metadata',
    { schema: { tags, summary: "A compose's packages", params: idParams } },
    async (request) => {
      const compose = composeOf(store, (request.params as { id: string }).id);
      return {
        id: compose.uuid,
        kind: 'ComposeMetadata',
        href: href(compose.uuid, '/metadata'),
        packages: composePackages(compose).map((p) => ({
          type: 'deb',
          name: p.name,
          version: p.version,
          release: p.release,
          epoch: p.epoch,
          arch: p.arch,
          sigmd5: '',
          checksum: `sha256:${p.sha256}`,
        })),
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
