/** A compose as Weldr's lists, compose/status and compose/info show it (Weldr's ComposeEntry). */
import { type Compose, type Store, weldrStatus } from '@debian-forge/store';
import { imageOf } from '../compose-image.ts';

/** Seconds since the epoch, with fractions, of an ISO time. */
export function seconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

/** Weldr's ComposeEntry. */
export function composeEntry(store: Store, compose: Compose, v1: boolean) {
  const status = weldrStatus(compose.state);
  const image = status === 'FINISHED' ? imageOf(store, compose) : undefined;
  return {
    id: compose.uuid,
    blueprint: compose.blueprintName,
    version: compose.blueprintVersion,
    compose_type: compose.imageType,
    image_size: status === 'FINISHED' ? compose.size || (image?.size ?? 0) : 0,
    queue_status: status,
    job_created: seconds(compose.createdAt),
    ...(compose.startedAt ? { job_started: seconds(compose.startedAt) } : {}),
    ...(compose.finishedAt ? { job_finished: seconds(compose.finishedAt) } : {}),
    ...(v1 ? { uploads: [] } : {}),
  };
}
