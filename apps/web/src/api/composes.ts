/**
 * The compose calls the UI makes (Weldr start, lists, cancel, delete, downloads; Forge view,
 * priority, events), typed as the service answers them.
 */
import { ApiFailure, type Client, FORGE, segments, WELDR } from './client.ts';

export type WeldrStatus = 'WAITING' | 'RUNNING' | 'FINISHED' | 'FAILED';

/** Weldr's ComposeEntry; times are seconds since the epoch. */
export interface ComposeEntry {
  id: string;
  blueprint: string;
  version: string;
  compose_type: string;
  image_size: number;
  queue_status: WeldrStatus;
  job_created: number;
  job_started?: number;
  job_finished?: number;
}

export type ComposeState = 'PENDING' | 'QUEUED' | 'BUILDING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

export interface Progress {
  done: number;
  total: number;
  message?: string;
}

/** The Forge API's view of one compose. */
export interface ComposeView {
  id: string;
  state: ComposeState;
  image_type: string;
  blueprint: { name: string; version: string } | null;
  priority: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  worker: string | null;
  error: { code: string; message: string } | null;
  progress: Progress | null;
  artifacts: { filename: string; size: number; sha256: string }[];
}

/** A row of the compose list: the Weldr entry, with the priority of a waiting compose. */
export interface ComposeRow extends ComposeEntry {
  priority?: number;
}

export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 1000;

/**
 * Every compose, newest first, in four requests whatever their number: the Weldr queue, finished
 * and failed lists, and the Forge list of the waiting ones for their priorities.
 */
export async function composeRows(api: Client): Promise<ComposeRow[]> {
  const [queue, finished, failed, waiting] = await Promise.all([
    api.get<{ new: ComposeEntry[]; run: ComposeEntry[] }>(`${WELDR}/compose/queue`),
    api.get<{ finished: ComposeEntry[] }>(`${WELDR}/compose/finished`),
    api.get<{ failed: ComposeEntry[] }>(`${WELDR}/compose/failed`),
    api.get<{ composes: ComposeView[] }>(`${FORGE}/composes?state=PENDING,QUEUED`),
  ]);
  const priority = new Map(waiting.composes.map((c) => [c.id, c.priority]));
  return [...queue.new, ...queue.run, ...finished.finished, ...failed.failed]
    .map((e) => {
      const p = e.queue_status === 'WAITING' ? priority.get(e.id) : undefined;
      return p === undefined ? e : { ...e, priority: p };
    })
    .sort((a, b) => b.job_created - a.job_created);
}

export interface ImageType {
  name: string;
  enabled: boolean;
}

export const imageTypes = async (api: Client, distro: string) =>
  (await api.get<{ types: ImageType[] }>(`${WELDR}/compose/types?distro=${encodeURIComponent(distro)}`))
    .types;

/**
 * Whether an image type makes an OSTree commit and so takes a ref, parent and URL: the atomic
 * types (`debian-atomic-commit`, `debian-atomic-qcow2`) and any a later distro names so.
 */
export function takesOstree(imageType: string): boolean {
  return /atomic|ostree|commit|installer/.test(imageType);
}

export interface StartRequest {
  blueprint_name: string;
  compose_type: string;
  size?: number;
  ostree?: { ref?: string; parent?: string; url?: string };
}

export async function startCompose(
  api: Client,
  body: StartRequest,
): Promise<{ build_id: string; warnings: string[] }> {
  return api.send('POST', `${WELDR}/compose`, body);
}

/** The field of the start dialog an API refusal is about, or undefined for the dialog as a whole. */
export type StartField = 'blueprint' | 'distro' | 'compose_type' | 'size' | 'ref' | 'parent' | 'url';

/**
 * Which field a refusal of compose start is about, from the Weldr id and the service's words
 * ("ostree parent '…' is not …", "size must be …", "Failed to get compose type …").
 */
export function fieldOfFailure(failure: ApiFailure): StartField | undefined {
  const { id, message } = failure;
  if (id === 'UnknownBlueprint' || id === 'BlueprintsError') return 'blueprint';
  if (id === 'DistroError') return 'distro';
  if (id === 'OSTreeOptionsError') {
    const named = /\bostree[ .](ref|parent|url)\b/.exec(message)?.[1];
    return named === 'parent' || named === 'url' ? named : 'ref';
  }
  if (/compose type|image type/.test(message)) return 'compose_type';
  if (/^size\b/.test(message)) return 'size';
  return undefined;
}

export const composeView = (api: Client, uuid: string) =>
  api.get<ComposeView>(`${FORGE}/composes/${segments(uuid)}`);

export const setPriority = (api: Client, uuid: string, priority: number) =>
  api.send<ComposeView>('PUT', `${FORGE}/composes/${segments(uuid)}/priority`, { priority });

export async function cancelCompose(api: Client, uuid: string): Promise<void> {
  await api.send('DELETE', `${WELDR}/compose/cancel/${segments(uuid)}`);
}

/** compose/delete answers 200 with an error per compose it kept: that is a failure here. */
export async function deleteCompose(api: Client, uuid: string): Promise<void> {
  const answer = await api.send<{ errors: { id: string; msg: string }[] }>(
    'DELETE',
    `${WELDR}/compose/delete/${segments(uuid)}`,
  );
  const error = answer.errors[0];
  if (error) throw new ApiFailure(200, error.id, error.msg);
}

export type DownloadKind = 'image' | 'logs' | 'metadata';

export const downloadPath = (uuid: string, kind: DownloadKind) =>
  `${WELDR}/compose/${kind}/${segments(uuid)}`;

/**
 * The name the service gives the file in its Content-Disposition: `<uuid>-<artifact>` for the
 * image (the artifact named in the compose's view), `<uuid>-<kind>.tar` for the logs and metadata.
 */
export function downloadName(view: ComposeView, kind: DownloadKind): string {
  const artifact = view.artifacts[0]?.filename;
  return kind === 'image' && artifact ? `${view.id}-${artifact}` : `${view.id}-${kind}.tar`;
}

/** The text of an ended compose's log (Weldr compose/log). */
export const composeLog = (api: Client, uuid: string) => api.text(`${WELDR}/compose/log/${segments(uuid)}`);

export const eventsPath = (uuid: string) => `${FORGE}/events?compose=${encodeURIComponent(uuid)}`;
