/** The Weldr calls the UI makes, typed as the service answers them. */
import { type Client, segments, WELDR } from './client.ts';

export interface BlueprintSummary {
  name: string;
  description?: string;
  version?: string;
  packages?: { name: string; version?: string }[];
  modules?: { name: string; version?: string }[];
  groups?: { name: string }[];
  distro?: string;
}

interface ListAnswer {
  blueprints: string[];
  total: number;
}

/** Every blueprint name: the total first (limit=0), then one page holding all of them. */
export async function blueprintNames(api: Client): Promise<string[]> {
  const { total } = await api.get<ListAnswer>(`${WELDR}/blueprints/list?limit=0`);
  if (total === 0) return [];
  return (await api.get<ListAnswer>(`${WELDR}/blueprints/list?offset=0&limit=${total}`)).blueprints;
}

/** The blueprints named, as stored (with uncommitted changes from the workspace). */
export async function blueprintInfos(api: Client, names: readonly string[]): Promise<BlueprintSummary[]> {
  if (names.length === 0) return [];
  const path = `${WELDR}/blueprints/info/${names.map((n) => segments(n)).join(',')}`;
  return (await api.get<{ blueprints: BlueprintSummary[] }>(path)).blueprints;
}

export async function deleteBlueprint(api: Client, name: string): Promise<void> {
  await api.send('DELETE', `${WELDR}/blueprints/delete/${segments(name)}`);
}
