/** Package sources over Weldr's projects/source routes (v1: sources keyed by id). */
import { ApiFailure, type Client, segments, WELDR } from './client.ts';

export interface Source {
  id: string;
  name: string;
  type: string;
  url: string;
  check_gpg: boolean;
  check_ssl: boolean;
  /** The host's own repositories: listed, never changed or removed. */
  system: boolean;
  suites?: string[];
  components?: string[];
  signed_by?: string[];
  distros?: string[];
}

/** What `projects/source/new` takes for a deb source. */
export interface NewSource {
  id: string;
  name: string;
  type: 'deb';
  url: string;
  suites: string[];
  components: string[];
  signed_by: string[];
  distros: string[];
  check_gpg: boolean;
  check_ssl: boolean;
}

/** Every source, in the service's order (the user's, then the system ones). */
export async function sourceList(api: Client): Promise<Source[]> {
  const { sources: ids } = await api.get<{ sources: string[] }>(`${WELDR}/projects/source/list`);
  if (ids.length === 0) return [];
  const path = `${WELDR}/projects/source/info/${ids.map((id) => segments(id)).join(',')}`;
  const { sources } = await api.get<{ sources: Record<string, Source> }>(path);
  return ids.flatMap((id) => (sources[id] ? [sources[id]] : []));
}

export async function addSource(api: Client, source: NewSource): Promise<void> {
  await api.send('POST', `${WELDR}/projects/source/new`, source);
}

export async function deleteSource(api: Client, id: string): Promise<void> {
  await api.send('DELETE', `${WELDR}/projects/source/delete/${segments(id)}`);
}

/** The fields the form shows a refusal under. */
export type SourceField = 'id' | 'name' | 'url' | 'suites' | 'components' | 'signed_by' | 'distros';

const FIELDS: readonly SourceField[] = ['id', 'name', 'url', 'suites', 'components', 'signed_by', 'distros'];

/**
 * The field a refusal of `projects/source/new` is about, so the form shows it there: the service
 * names the body's key in quotes ('url' must be …), and says "source name" or InvalidChars for the
 * id; undefined when it names none.
 */
export function sourceFieldOf(err: unknown): SourceField | undefined {
  if (!(err instanceof ApiFailure)) return undefined;
  if (err.id === 'InvalidChars' || err.id === 'SystemSource' || /\bsource name\b/.test(err.message))
    return 'id';
  if (/^Invalid distributions/.test(err.message)) return 'distros';
  const quoted = /'([a-z_]+)'/.exec(err.message)?.[1];
  return FIELDS.find((f) => f === quoted);
}
