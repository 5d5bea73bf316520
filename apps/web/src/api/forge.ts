/** The Forge and Weldr status calls the system view makes, typed as the service answers them. */
import { type Client, FORGE, WELDR_STATUS } from './client.ts';

export interface ServiceStatus {
  api: string;
  build: string;
  backend: string;
  db_version: string;
  schema_version: string;
  msgs: string[];
}

export interface Health {
  status: 'ok' | 'unavailable';
  redis: { reachable: boolean; since: string; error?: string };
}

export interface Resources {
  cpus: number;
  memory_mib: number;
  disk_gib: number;
}

export interface Worker {
  name: string;
  resources: Resources;
  free: Resources;
  active_jobs: { job_id: string; compose: string | null }[];
  seen_at: string;
}

export interface QueueCounts {
  queued: number;
  active: number;
  completed: number;
  failed: number;
  workers: number;
}

export const serviceStatus = (api: Client) => api.get<ServiceStatus>(WELDR_STATUS);

/** The health answer, also when it says 503 (Redis away): that is what the view shows. */
export async function health(api: Client): Promise<Health> {
  const reply = await api.transport.request('GET', `${FORGE}/health`);
  return JSON.parse(reply.body) as Health;
}

export const workers = async (api: Client) =>
  (await api.get<{ workers: Worker[] }>(`${FORGE}/workers`)).workers;
export const queueCounts = (api: Client) => api.get<QueueCounts>(`${FORGE}/queue`);
