/**
 * The compose service's contract: everything that creates, moves and removes composes. Routes of
 * all three APIs call it; nothing else writes compose rows (the lifecycle in lifecycle.ts moves
 * them as the queue reports, through `moveCompose` of compose-rows.ts). createComposeService
 * (compose-service.ts) puts it together from its parts, one concern each (compose-*.ts).
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

import type { ModuleIndex } from '@debian-forge/manifest';
import type { ForgeQueue, Resources } from '@debian-forge/queue';
import type { Compose, Store } from '@debian-forge/store';
import type { ApiConfig } from '../config.ts';
import type { ComposeEvents } from '../events.ts';
import type { ArtifactUpload } from './artifacts.ts';
import type { OstreeRepo } from './ostree-repo.ts';
import type { ComposePlanner } from './planner.ts';

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

/** How long `submit(…, { waitForPlan: true })` waits by default, in seconds. */
export const DEFAULT_PLAN_WAIT_SECONDS = 180;

export interface ComposeServiceOptions {
  /** Makes manifests; `aptPlanner(config.stateDir, store, { hostBuildRoot })` by default. */
  planner?: ComposePlanner;
  /** The default planner's manifests run on the workers' own tools (no build pipeline). */
  hostBuildRoot?: boolean;
  /** Canonical directories the default planner reads blueprints' source package paths from (none without). */
  sourceDirs?: readonly string[];
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
  /** The OSTree repository a deleted compose's commit is withdrawn from. */
  ostree: OstreeRepo;
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
