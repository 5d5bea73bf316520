/**
 * The compose service: everything that creates, moves and removes composes. Routes of all three
 * APIs call it; nothing else writes compose rows (the lifecycle in lifecycle.ts moves them as the
 * queue reports, through `moveCompose` of compose-moves.ts).
 *
 * A compose is recorded PENDING at once; its manifest is made off the request path (apt runs for
 * seconds to minutes), then it is queued (QUEUED). Errors of that step end it FAILED with the
 * reason. `pending()` resolves when no manifest is being made (tests, shutdown).
 *
 * Weldr's `compose` answers manifest errors in the response, as osbuild-composer does (it depsolves
 * in the request and stores nothing when that fails): `submit(request, { waitForPlan: true })`
 * resolves once the compose is QUEUED, or rejects with a ComposePlanError after removing the
 * compose (a FAILED state event goes out first, so a follower of the compose sees it end; the row,
 * its log and its directory then go as `delete` removes them, without an event of their own). The
 * wait is bounded: a cold apt root can take minutes to update, and composer-cli gives up after 240
 * seconds by default (its --timeout). After `planWaitSeconds` (DEFAULT_PLAN_WAIT_SECONDS, under
 * that timeout) the call resolves with the still PENDING compose, the manifest goes on being made,
 * and an error after that ends the compose FAILED as for the other APIs. A compose cancelled while
 * its manifest is made resolves the call with the CANCELLED row. The Cloud and Forge APIs do not
 * wait (osbuild-composer's Cloud API is asynchronous too).
 *
 * A compose's artifact is stored here too (`storeArtifact`): the upload route hands over the stream
 * a worker sends, `submitFake` the fake image of a `?test=2` compose, and both take the same path
 * (services/artifacts.ts writes the file; the row is written here).
 *
 * Redis away: a compose start that needs the queue is refused before anything is stored
 * (FORGE_ERR_REDIS_UNAVAILABLE, 503; Weldr's ComposePushErrored, 500), as osbuild-composer refuses
 * a compose whose job it cannot enqueue and keeps nothing: a client never gets the id of a compose
 * that cannot build. The same holds when the queue refuses the job of a request still open (Weldr's
 * start, a raw manifest): the compose is removed and the request answered with the reason. Only a
 * compose already answered (Cloud and Forge starts, whose manifest is made after the answer) ends
 * FAILED with the reason when Redis went away meanwhile.
 */

import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AptError, AptErrorCode } from '@debian-forge/apt';
import {
  acceptBlueprint,
  type Blueprint,
  BlueprintError,
  BlueprintErrorCode,
  describeValue,
} from '@debian-forge/blueprint';
import {
  ComposerError,
  type ComposeTarget,
  type ComposeTargetResolved,
  getImageType,
  resolveComposeTarget,
} from '@debian-forge/composer';
import { ManifestError, type ModuleIndex, nameError, validateManifest } from '@debian-forge/manifest';
import {
  type BuildJob,
  DEFAULT_PRIORITY,
  type ForgeQueue,
  jobIdOf,
  MAX_PRIORITY,
  MIN_PRIORITY,
  QueueErrorCode,
  type Resources,
} from '@debian-forge/queue';
import type { Compose, ComposeState, Store } from '@debian-forge/store';
import type { ApiConfig } from '../config.ts';
import { ApiError, ApiErrorCode, apiErrorOf, ComposeErrorCode } from '../errors.ts';
import type { ComposeEvents } from '../events.ts';
import { ArtifactStorageFailure, type ArtifactUpload, storageFault, writeArtifact } from './artifacts.ts';
import { moveCompose, OWN_LOG_PREFIX, ownLog } from './compose-moves.ts';
import { aptPlanner, type ComposePlanner, targetOf } from './planner.ts';

/**
 * Which API starts a compose: each API's routes see only their own composes (composer-cli asks the
 * Cloud API first and turns to Weldr only when the Cloud API says a compose does not exist). A
 * Cloud compose keeps its request as submitted, for its metadata.
 */
export type ComposeOrigin = { api: 'weldr' } | { api: 'cloud'; request: Record<string, unknown> };

export interface ComposeRequest {
  origin: ComposeOrigin;
  /** A blueprint as stored (JSON form) and the image type to build from it. */
  blueprint: { name: string; version?: string } & Record<string, unknown>;
  imageType: string;
  distro?: string;
  arch?: string;
  size?: number;
  priority?: number;
  ostree?: { ref?: string; parent?: string; url?: string };
}

export interface ManifestRequest {
  /** An OSBuild manifest (version 2), already parsed. */
  manifest: Record<string, unknown>;
  /** The pipelines to export; the artifact is the file `filename` in the (first) export. */
  exports: string[];
  filename: string;
  imageType?: string;
  priority?: number;
}

export interface SubmitOptions {
  /** Resolve once the compose is QUEUED (Weldr); see the top of this file. */
  waitForPlan?: boolean;
}

export interface ComposeService {
  /** Records the compose (PENDING), makes its manifest, queues it (QUEUED). Returns at once with
   *  the PENDING row; manifest errors end the compose FAILED with the reason. With `waitForPlan`,
   *  returns the QUEUED row, or rejects with a ComposePlanError and keeps nothing. */
  submit(request: ComposeRequest, options?: SubmitOptions): Promise<Compose>;
  /** A raw OSBuild manifest (Forge API): validated first (400 FORGE_ERR_MANIFEST_INVALID, nothing
   *  stored), then queued at once; returns the QUEUED row. */
  submitManifest(request: ManifestRequest): Promise<Compose>;
  /** Weldr `?test=1` (FAILED) and `?test=2` (COMPLETED with a small fake image), never queued.
   *  The manifest is made first, as for a build (osbuild-composer depsolves and makes it in test
   *  mode too): its errors reject with a ComposePlanError and keep nothing, as `submit` with
   *  `waitForPlan` does, but without its bound (nothing would fake the outcome later). A fake image
   *  the artifacts directory cannot take ends the compose FAILED and rejects with the 5xx ApiError
   *  of services/artifacts.ts. */
  submitFake(request: ComposeRequest, outcome: 'fail' | 'finish'): Promise<Compose>;
  /** Stores the artifact of a BUILDING compose (a QUEUED one whose job a worker has taken moves to
   *  BUILDING first; 404 unknown, 409 in another state), replacing one of the same name. The
   *  sender's faults are 400s and the compose stays BUILDING; a failure of the server's storage
   *  ends the compose FAILED and rejects with the 5xx of services/artifacts.ts. `report` hears of
   *  what the answer does not carry (the storage error behind a 5xx, a FAILED that could not be
   *  recorded). The body is read to the end or destroyed, whatever happens. */
  storeArtifact(uuid: string, upload: ArtifactUpload, report?: ArtifactReport): Promise<StoredArtifact>;
  /** PENDING or QUEUED: out of the queue; BUILDING: its worker is signalled and kills the build.
   *  Ends CANCELLED; 404 unknown, 409 already finished. */
  cancel(uuid: string): Promise<Compose>;
  /** Removes a finished compose with its logs and artifacts (409 when not finished). */
  delete(uuid: string): Promise<void>;
  /** A waiting (PENDING or QUEUED) compose's priority, in the store and the queue. */
  setPriority(uuid: string, priority: number): Promise<Compose>;
}

/** An artifact as stored: what the upload route answers. */
export interface StoredArtifact {
  filename: string;
  size: number;
  sha256: string;
}

/** Where `storeArtifact` reports an error of `compose` that its answer does not carry. */
export type ArtifactReport = (context: { err: unknown; compose: string }, message: string) => void;

/**
 * Why a compose whose caller waited for its manifest was refused (it is removed): `code` is the
 * reason's own code (an AptError's, a ComposerError's, `FORGE_ERR_COMPOSE_QUEUE` …); the status is
 * 400 when the request is at fault (a package apt cannot find or install, bad options) and 500
 * otherwise (a repository that cannot be read, the queue, a fault of the service).
 */
export class ComposePlanError extends ApiError {
  constructor(err: unknown) {
    const { code, message } = errorOf(err);
    super(requestAtFault(err) ? 400 : 500, code, message);
  }
}

const REQUEST_APT_ERRORS: readonly string[] = [
  AptErrorCode.NotFound,
  AptErrorCode.Unsatisfiable,
  AptErrorCode.Request,
];

function requestAtFault(err: unknown): boolean {
  if (err instanceof AptError) return REQUEST_APT_ERRORS.includes(err.code);
  return err instanceof ComposerError || err instanceof ManifestError;
}

/** How long `submit(…, { waitForPlan: true })` waits by default, in seconds. */
export const DEFAULT_PLAN_WAIT_SECONDS = 180;

export interface ComposeServiceOptions {
  /** Makes manifests; `aptPlanner(config.stateDir, store)` by default. */
  planner?: ComposePlanner;
  /** Module schemas raw manifests are checked against (stages, sources …); schema only without. */
  manifestIndex?: ModuleIndex;
  /** What a build job asks of a worker; by default 1 CPU, 2 GiB and room for the image. */
  resources?: (compose: Compose) => Resources;
  /** The longest wait of `submit(…, { waitForPlan: true })`; DEFAULT_PLAN_WAIT_SECONDS by default. */
  planWaitSeconds?: number;
  /** The largest image size (bytes) a compose may ask for; DEFAULT_MAX_IMAGE_SIZE by default. */
  maxImageSize?: number;
}

export interface ComposeServiceDeps {
  config: ApiConfig;
  store: Store;
  queue: ForgeQueue;
  events: ComposeEvents;
}

/** The service with what the lifecycle needs beyond the routes' interface. */
export interface ComposeServiceForLifecycle extends ComposeService {
  /** Makes the manifest of a PENDING compose again and queues it (reconciliation at start-up); a
   *  test compose is ended FAILED instead. */
  replan(compose: Compose): void;
  /** Resolves when no manifest is being made. */
  pending(): Promise<void>;
  /** Whether the job of a compose is being added to the queue now (QUEUED before the job exists). */
  queueing(uuid: string): boolean;
}

/**
 * How a manifest step ended: queued, made only (a test compose), ended another way meanwhile
 * (cancelled), or FAILED for `failed`.
 */
type PlanOutcome = 'queued' | 'made' | 'gone' | { failed: unknown };

/**
 * The first line of a test compose's log, which tells it from a build at start-up: a test compose
 * still PENDING then is ended FAILED (its request is gone), never planned into a build.
 */
const TEST_COMPOSE_LINE = 'a test compose: its manifest is made as for a build, which never runs';

const GiB = 1024 ** 3;

/**
 * The largest image a compose may ask for unless configured (`forge serve --max-image-size`):
 * 256 GiB. Its build job asks a worker for twice that in free disk (defaultResources), more than
 * a build machine usually has; a larger request would wait in the queue for a worker that never
 * comes, so it is refused with a 400 that names this limit.
 */
export const DEFAULT_MAX_IMAGE_SIZE = 256 * GiB;

const TERMINAL: readonly ComposeState[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export function defaultResources(compose: Compose): Resources {
  const imageGiB = Math.ceil((compose.size || 0) / GiB);
  return { cpus: 1, memoryMiB: 2048, diskGiB: Math.max(10, 2 * imageGiB + 5) };
}

/**
 * Ends a BUILDING compose FAILED with `error` (a line in its log, the reason as its error), as the
 * service does when it cannot store the compose's artifact or knows its worker died; false when
 * the compose is not BUILDING (any more).
 */
function failBuilding(
  deps: { store: Store; events: ComposeEvents },
  uuid: string,
  error: { code: string; message: string },
): boolean {
  if (deps.store.composes.get(uuid)?.state !== 'BUILDING') return false;
  ownLog(deps, uuid, `compose failed: ${error.message} [${error.code}]`);
  moveCompose(deps, uuid, 'FAILED', { error });
  return true;
}

/**
 * Ends a BUILDING compose whose artifact `filename` (`size` bytes, when known) could not be stored
 * because of `err`: removes what was half written (`written`) and the compose's directory when
 * nothing else is in it, then FAILED with the reason. When the database is full too,
 * `onUnrecorded` hears of it and the compose stays BUILDING until the lifecycle fails it. Returns
 * the 5xx to answer.
 */
async function failStoring(
  deps: { config: ApiConfig; store: Store; events: ComposeEvents },
  uuid: string,
  artifact: { filename: string; size?: number; written: string[] },
  err: unknown,
  onUnrecorded: (err: unknown) => void = () => {},
): Promise<ApiError> {
  const { artifactsDir } = deps.config;
  await Promise.all(artifact.written.map((f) => rm(f, { force: true }).catch(() => {})));
  await rmdir(join(artifactsDir, uuid)).catch(() => {}); // made for this artifact, or holding another: kept
  const fault = await storageFault(err, artifactsDir, artifact.filename, artifact.size);
  try {
    failBuilding(deps, uuid, { code: fault.code, message: fault.message });
  } catch (e) {
    onUnrecorded(e);
  }
  return fault;
}

/** The reason of a failure as kept in the store: `{code, message}`. */
export function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof ComposerError || err instanceof AptError || err instanceof ManifestError) {
    return { code: err.code, message: err.message };
  }
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' && e.code.startsWith('FORGE_ERR_') ? e.code : ApiErrorCode.Internal,
    message: String(e?.message ?? err),
  };
}

/** `n` bytes for people: `931.3 GiB`. */
function gib(n: number): string {
  return `${Math.round((n / GiB) * 10) / 10} GiB`;
}

/** A requested image size: bytes from 0 (the image type's default) to `max`; else a 400. */
function checkSize(size: number | undefined, max: number): number {
  if (size === undefined) return 0;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw ApiError.of(
      ComposeErrorCode.BadRequest,
      `size must be a whole number of bytes, got ${describeValue(size)}`,
    );
  }
  if (size > max) {
    throw ApiError.of(
      ComposeErrorCode.BadRequest,
      `size ${size} bytes (${gib(size)}) is more than the largest image this service makes, ${max} bytes (${gib(max)}; forge serve --max-image-size)`,
    );
  }
  return size;
}

function checkPriority(priority: number | undefined): number {
  const p = priority ?? DEFAULT_PRIORITY;
  if (!Number.isInteger(p) || p < MIN_PRIORITY || p > MAX_PRIORITY) {
    throw ApiError.of(
      ComposeErrorCode.BadRequest,
      `priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${p}`,
    );
  }
  return p;
}

/**
 * The blueprint of a compose request as it is stored and planned: checked by the blueprint
 * package's schema (the code Weldr's blueprints/new runs, whatever API the request came through)
 * and with its passwords hashed; 400 FORGE_ERR_BLUEPRINT_INVALID with the issues as details.
 */
function checkBlueprint(data: ComposeRequest['blueprint']): Blueprint {
  const r = acceptBlueprint(data);
  if (!r.ok) {
    throw new ApiError(400, BlueprintErrorCode.Invalid, BlueprintError.invalid(r.issues).message, r.issues);
  }
  return r.blueprint;
}

/** The MIME type of an image type's artifact; the generic one for a raw manifest's. */
export function mimeTypeOf(imageType: string | undefined): string {
  return (imageType && getImageType(imageType)?.mimeType) || 'application/octet-stream';
}

/** The compose or a 404 ApiError. */
export function mustGetCompose(store: Store, uuid: string): Compose {
  const compose = store.composes.get(uuid);
  if (!compose) throw ApiError.of(ComposeErrorCode.NotFound, `compose ${uuid} does not exist`);
  return compose;
}

/** The bytes of the fake image of a `?test=2` compose. */
export function fakeImage(uuid: string): Buffer {
  return Buffer.from(`Debian Forge test compose ${uuid}: not an image\n`);
}

export function createComposeService(
  deps: ComposeServiceDeps,
  options: ComposeServiceOptions = {},
): ComposeServiceForLifecycle {
  const { store, queue, config } = deps;
  const planner = options.planner ?? aptPlanner(config.stateDir, store);
  const resources = options.resources ?? defaultResources;
  const running = new Set<Promise<void>>();
  const adding = new Set<string>();
  const planWaitMs = (options.planWaitSeconds ?? DEFAULT_PLAN_WAIT_SECONDS) * 1000;
  const maxImageSize = options.maxImageSize ?? DEFAULT_MAX_IMAGE_SIZE;

  /** The target of a compose, resolved once: the request's now, a recorded compose's on replan. */
  const checkTarget = (target: ComposeTarget): ComposeTargetResolved => {
    try {
      return resolveComposeTarget(target);
    } catch (err) {
      if (err instanceof ComposerError) throw new ApiError(400, err.code, err.message);
      throw err;
    }
  };

  /** Records a compose (PENDING) with its resolved target; `queued` ones only while Redis is reachable. */
  const create = (
    request: ComposeRequest,
    queued: boolean,
  ): { compose: Compose; target: ComposeTargetResolved } => {
    const blueprint = checkBlueprint(request.blueprint);
    const size = checkSize(request.size, maxImageSize);
    const target = checkTarget({
      blueprint,
      imageType: request.imageType,
      ...(request.distro ? { distro: request.distro } : {}),
      ...(request.arch ? { arch: request.arch } : {}),
      size,
      ...(request.ostree ? { ostree: request.ostree } : {}),
    });
    if (queued) queue.assertAvailable();
    const compose = store.composes.create({
      blueprintName: blueprint.name,
      blueprintVersion: blueprint.version ?? '0.0.0',
      blueprint,
      imageType: target.imageType.name,
      distro: target.distro.name,
      arch: target.arch,
      size: size || target.imageType.defaultSize,
      priority: checkPriority(request.priority),
      ...(request.ostree ? { ostree: request.ostree } : {}),
      api: request.origin.api,
      ...(request.origin.api === 'cloud' ? { request: request.origin.request } : {}),
    });
    deps.events.publish({ type: 'state', uuid: compose.uuid, state: 'PENDING', at: compose.createdAt });
    return { compose, target };
  };

  /**
   * Queues a compose whose manifest and build are stored: job id first, QUEUED, then the job, which
   * names only the compose (the worker asks for the plan, see packages/queue's BuildJob).
   */
  const enqueue = async (compose: Compose): Promise<PlanOutcome> => {
    const job: BuildJob = {
      type: 'build',
      composeId: compose.uuid,
      priority: compose.priority,
      resources: resources(compose),
    };
    // QUEUED before the job exists, so a worker's `active` always finds a QUEUED compose.
    moveCompose(deps, compose.uuid, 'QUEUED', { jobId: jobIdOf(job) });
    adding.add(compose.uuid);
    try {
      await queue.add(job);
      return 'queued';
    } catch (err) {
      const reason = `the build job could not be queued: ${(err as Error)?.message ?? String(err)}`;
      // Redis away passes (its status, 503: try again); any other refusal of the queue is the
      // service's fault.
      const known = apiErrorOf(err);
      const refusal = new ApiError(known?.status ?? 500, known?.code ?? ComposeErrorCode.Queue, reason);
      return fail(compose.uuid, refusal);
    } finally {
      adding.delete(compose.uuid);
    }
  };

  /** Ends the compose FAILED with the reason, unless it has ended (or gone) meanwhile. */
  const fail = (uuid: string, err: unknown): PlanOutcome => {
    const current = store.composes.get(uuid);
    if (!current || TERMINAL.includes(current.state)) return 'gone';
    const error = errorOf(err);
    ownLog(deps, uuid, `compose failed: ${error.message} [${error.code}]`);
    moveCompose(deps, uuid, 'FAILED', { error });
    return { failed: err };
  };

  /**
   * Makes and stores the plan of a PENDING compose (its target resolved by `create`, else from its
   * row), then hands it to `next` (the queue).
   */
  const plan = (
    compose: Compose,
    resolved?: ComposeTargetResolved,
    next: (compose: Compose) => Promise<PlanOutcome> = enqueue,
  ): Promise<PlanOutcome> => {
    const work = (async (): Promise<PlanOutcome> => {
      try {
        const target = resolved ?? checkTarget(targetOf(compose));
        const { manifest, ...build } = await planner(target, (text) => ownLog(deps, compose.uuid, text));
        const now = store.composes.get(compose.uuid);
        if (now?.state !== 'PENDING') return 'gone'; // cancelled (or deleted) meanwhile
        store.composes.setManifest(compose.uuid, manifest, build);
        return await next(now);
      } catch (err) {
        return fail(compose.uuid, err);
      }
    })();
    const tracked = work.then(() => undefined);
    running.add(tracked);
    void tracked.finally(() => running.delete(tracked));
    return work;
  };

  /** The plan's outcome, or 'waiting' after `planWaitMs`. */
  const waitFor = async (work: Promise<PlanOutcome>): Promise<PlanOutcome | 'waiting'> => {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'waiting'>((resolve) => {
      timer = setTimeout(() => resolve('waiting'), planWaitMs);
    });
    try {
      return await Promise.race([work, bound]);
    } finally {
      clearTimeout(timer);
    }
  };

  /**
   * Writes the artifact of a BUILDING compose and records it (a retried upload replaces the
   * first); a failure of the server's storage ends the compose FAILED (failStoring) and throws the
   * 5xx, and the sender's faults pass as they are.
   */
  const keepArtifact = async (
    compose: Compose,
    upload: ArtifactUpload,
    report: ArtifactReport,
  ): Promise<StoredArtifact> => {
    const { uuid } = compose;
    const { filename } = upload;
    const failed = async (err: unknown, written: string[]): Promise<ApiError> => {
      const fault = await failStoring(
        deps,
        uuid,
        { filename, ...(upload.size === undefined ? {} : { size: upload.size }), written },
        err,
        // The database is on the full file system too: the lifecycle fails the compose once the
        // worker has failed its job.
        (e) => report({ err: e, compose: uuid }, 'cannot fail the compose'),
      );
      report({ err, compose: uuid }, fault.message);
      return fault;
    };
    let artifact: Awaited<ReturnType<typeof writeArtifact>>;
    try {
      artifact = await writeArtifact(config.artifactsDir, uuid, upload);
    } catch (err) {
      if (err instanceof ArtifactStorageFailure) throw await failed(err.cause, err.written);
      throw err; // the sender's fault (or a name that leads out of the directory)
    }
    try {
      store.transaction(() => {
        store.artifacts.delete(uuid, filename);
        store.artifacts.add({
          uuid,
          filename,
          ...artifact,
          // The plan's; a compose planned before plans were kept has its image type's.
          mimeType: compose.build?.artifact.mimeType ?? mimeTypeOf(compose.imageType),
        });
      });
    } catch (err) {
      throw await failed(err, [artifact.path]);
    }
    return { filename, size: artifact.size, sha256: artifact.sha256 };
  };

  /** The compose an artifact is for: BUILDING (or moved there when its job is being built). */
  const buildingCompose = async (id: string): Promise<Compose> => {
    let compose = mustGetCompose(store, id);
    const { uuid } = compose; // the stored form names its directory, whatever case was asked
    if (compose.state === 'QUEUED' && compose.jobId) {
      // The worker can be quicker than the lifecycle's handling of its `active` event.
      const job = await queue.getJob(compose.jobId);
      if (job?.status === 'active') {
        compose = moveCompose(deps, uuid, 'BUILDING', job.worker ? { workerId: job.worker } : {});
      }
    }
    if (compose.state !== 'BUILDING') {
      throw ApiError.of(
        ComposeErrorCode.WrongState,
        `compose ${uuid} is ${compose.state}, not BUILDING: no upload`,
      );
    }
    return compose;
  };

  /** Removes a compose's row (with its log and artifact rows) and its artifact directory. */
  const remove = (uuid: string): void => {
    store.composes.delete(uuid);
    rmSync(join(config.artifactsDir, uuid), { recursive: true, force: true });
  };

  return {
    async submit(request, submitOptions = {}) {
      const { compose, target } = create(request, true);
      const work = plan(compose, target);
      if (!submitOptions.waitForPlan) return compose;
      const outcome = await waitFor(work);
      if (typeof outcome === 'object') {
        // Only microtasks ran since the FAILED move (no I/O callback): no request saw the FAILED row.
        remove(compose.uuid);
        throw new ComposePlanError(outcome.failed);
      }
      return store.composes.get(compose.uuid) ?? compose;
    },

    async submitManifest(request) {
      const problems = manifestProblems(request, options.manifestIndex);
      if (problems) throw new ApiError(400, ComposeErrorCode.BadManifest, problems.message, problems.details);
      const priority = checkPriority(request.priority);
      queue.assertAvailable();
      const compose = store.composes.create({
        blueprintName: '',
        blueprintVersion: '',
        imageType: request.imageType ?? 'manifest',
        distro: '',
        arch: 'x86_64',
        priority,
        manifest: request.manifest,
        // A raw manifest says nothing of its packages.
        build: {
          exports: request.exports,
          artifact: { filename: request.filename, mimeType: mimeTypeOf(request.imageType) },
          checkpoints: [],
          layers: [],
        },
        api: 'forge',
      });
      deps.events.publish({ type: 'state', uuid: compose.uuid, state: 'PENDING', at: compose.createdAt });
      const outcome = await enqueue(compose);
      if (typeof outcome === 'object') {
        remove(compose.uuid); // the request is refused: no 201 for a compose that cannot build
        throw outcome.failed;
      }
      return mustGetCompose(store, compose.uuid);
    },

    async submitFake(request, outcome) {
      const { compose, target } = create(request, false); // never queued: works while Redis is away
      const { uuid } = compose;
      ownLog(deps, uuid, TEST_COMPOSE_LINE);
      const made = await plan(compose, target, async () => 'made');
      if (typeof made === 'object') {
        remove(uuid); // as `submit` does: the request is refused, nothing kept
        throw new ComposePlanError(made.failed);
      }
      if (made === 'gone') return mustGetCompose(store, uuid); // cancelled meanwhile
      moveCompose(deps, uuid, 'QUEUED');
      if (outcome === 'fail') {
        const error = { code: ComposeErrorCode.TestCompose, message: 'a test compose that fails (?test=1)' };
        ownLog(deps, uuid, `compose failed: ${error.message} [${error.code}]`);
        return moveCompose(deps, uuid, 'FAILED', { error });
      }
      const building = moveCompose(deps, uuid, 'BUILDING');
      const bytes = fakeImage(uuid);
      const upload = {
        // The artifact a build of this plan would upload.
        filename: building.build?.artifact.filename ?? 'image',
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
        body: Readable.from([bytes]),
      };
      try {
        await keepArtifact(building, upload, () => {});
      } catch (err) {
        // As a build whose image cannot be stored: FAILED with the reason, and a 5xx. If even the
        // database is full, the compose stays BUILDING until a restart's reconciliation (no job);
        // the answer says what failed first.
        const fault = err as ApiError;
        throw new ApiError(fault.status, fault.code, `${fault.message} (compose ${uuid} FAILED)`);
      }
      ownLog(deps, uuid, 'a test compose that finishes with a fake image (?test=2)');
      return moveCompose(deps, uuid, 'COMPLETED');
    },

    async storeArtifact(id, upload, report = () => {}) {
      let compose: Compose;
      try {
        compose = await buildingCompose(id);
      } catch (err) {
        upload.body.destroy();
        throw err;
      }
      return keepArtifact(compose, upload, report);
    },

    async cancel(id) {
      const compose = mustGetCompose(store, id);
      const { uuid } = compose; // the stored form of an id given in another case
      if (TERMINAL.includes(compose.state)) {
        throw ApiError.of(
          ComposeErrorCode.WrongState,
          `compose ${uuid} is ${compose.state}: nothing to cancel`,
        );
      }
      if (compose.state !== 'PENDING') {
        const outcome = await queue.cancel(compose.jobId ?? `build-${uuid}`);
        const now = mustGetCompose(store, uuid);
        if (outcome === 'finished' || TERMINAL.includes(now.state)) {
          throw ApiError.of(ComposeErrorCode.WrongState, `compose ${uuid} has finished meanwhile`);
        }
      }
      const error = { code: QueueErrorCode.CANCELLED, message: 'cancelled on request' };
      ownLog(deps, uuid, 'compose cancelled');
      return moveCompose(deps, uuid, 'CANCELLED', { error });
    },

    async delete(id) {
      const compose = mustGetCompose(store, id);
      const { uuid } = compose; // the stored form of an id given in another case
      if (!TERMINAL.includes(compose.state)) {
        throw ApiError.of(ComposeErrorCode.WrongState, `compose ${uuid} is ${compose.state}, not finished`);
      }
      remove(uuid);
    },

    async setPriority(id, priority) {
      const p = checkPriority(priority);
      const compose = mustGetCompose(store, id);
      const { uuid } = compose;
      if (compose.state !== 'PENDING' && compose.state !== 'QUEUED') {
        throw ApiError.of(
          ComposeErrorCode.WrongState,
          `compose ${uuid} is ${compose.state}: only a waiting compose's priority can change`,
        );
      }
      // The queue first: while Redis is away the request fails and the store keeps the old value.
      if (compose.state === 'QUEUED' && compose.jobId) await queue.setPriority(compose.jobId, p);
      store.composes.setPriority(uuid, p);
      return mustGetCompose(store, uuid);
    },

    replan(compose) {
      const test = store.composes.log
        .read(compose.uuid)
        .some((l) => l.line === `${OWN_LOG_PREFIX}${TEST_COMPOSE_LINE}`);
      if (!test) void plan(compose);
      else {
        const error = {
          code: ComposeErrorCode.TestCompose,
          message: 'the service stopped while the manifest of this test compose was made',
        };
        fail(compose.uuid, error);
      }
    },

    async pending() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },

    queueing(uuid) {
      return adding.has(uuid);
    },
  };
}

/**
 * Why a raw manifest request cannot be queued, or undefined when it can. The export names and the
 * artifact's file name become paths on a worker (`<output>/<export>/<filename>`) and in the
 * artifacts directory: each must be one safe path component (the offending fields are in `details`
 * as validation errors are); the file name also travels in URLs and headers, so it is held to the
 * portable characters.
 */
function manifestProblems(
  request: ManifestRequest,
  index: ModuleIndex | undefined,
): { message: string; details?: unknown } | undefined {
  let result: ReturnType<typeof validateManifest>;
  try {
    result = validateManifest(request.manifest, index ? { index } : {});
  } catch (err) {
    return { message: (err as Error).message };
  }
  if (!result.valid) {
    const errors = result.errors.map((e) => ({ path: e.path, message: e.message }));
    return {
      message: `the manifest has ${errors.length} validation error(s): ${errors[0]?.message}`,
      details: errors,
    };
  }
  if (request.exports.length === 0) {
    return { message: 'name at least one pipeline to export' };
  }
  const unsafe = [
    ...request.exports.map((name, i) => ({ path: ['exports', i], message: nameError(name, 'export') })),
    {
      path: ['filename'],
      message: nameError(request.filename, 'artifact file name', { portable: true }),
    },
  ].filter((e) => e.message !== undefined);
  if (unsafe.length > 0) return { message: unsafe[0]?.message as string, details: unsafe };
  const names = new Set(
    ((request.manifest.pipelines ?? []) as { name?: unknown }[])
      .map((p) => p?.name)
      .filter((n) => typeof n === 'string'),
  );
  const missing = request.exports.filter((e) => !names.has(e));
  if (missing.length > 0) {
    return { message: `the manifest has no pipeline ${missing.join(', ')} to export` };
  }
  return undefined;
}
