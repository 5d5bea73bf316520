/**
 * A blueprint's history over Weldr: its changes (commits, newest first), the blueprint as it was at
 * one, what its workspace copy changes, undo and tag. Weldr's own `blueprints/diff` compares only the newest commit with the
 * workspace (as osbuild-composer does), so the difference between two commits is computed here from
 * the two blueprints `blueprints/change` returns, with the blueprint package's diff, the one the
 * service answers `blueprints/diff` with.
 */
import { type DiffEntry, diffBlueprints } from '@debian-forge/blueprint/diff';
import { type Client, segments, WELDR } from './client.ts';

export type { DiffEntry } from '@debian-forge/blueprint/diff';

export interface Change {
  commit: string;
  message: string;
  /** Set by a tag (1, 2, …); null for an untagged change. */
  revision: number | null;
  timestamp: string;
}

/** A blueprint as the service prints it (the diff reads it as the blueprint package's type). */
type Blueprint = Parameters<typeof diffBlueprints>[0];

interface ChangesAnswer {
  blueprints: { name: string; changes: Change[]; total: number }[];
}

const path = (...names: string[]) => `${WELDR}/blueprints/${segments(...names)}`;

/** Every change of a blueprint, newest first: the total first (limit=0), then one page of all. */
export async function blueprintChanges(api: Client, name: string): Promise<Change[]> {
  const first = await api.get<ChangesAnswer>(`${path('changes', name)}?limit=0`);
  const total = first.blueprints[0]?.total ?? 0;
  if (total === 0) return [];
  const all = await api.get<ChangesAnswer>(`${path('changes', name)}?offset=0&limit=${total}`);
  return all.blueprints[0]?.changes ?? [];
}

/** The blueprint as it was saved in one change. */
export const blueprintAt = (api: Client, name: string, commit: string) =>
  api.get<Blueprint>(path('change', name, commit));

/** What changed from one commit to another (`to` the newer), as Weldr's diff entries. */
export async function diffCommits(api: Client, name: string, from: string, to: string): Promise<DiffEntry[]> {
  const [older, newer] = await Promise.all([blueprintAt(api, name, from), blueprintAt(api, name, to)]);
  return diffBlueprints(older, newer);
}

/** What the workspace copy (saved, not yet a change) changes against the newest change. */
export async function workspaceDiff(api: Client, name: string): Promise<DiffEntry[]> {
  return (await api.get<{ diff: DiffEntry[] }>(path('diff', name, 'NEWEST', 'WORKSPACE'))).diff;
}

/** Saves the blueprint of an earlier change as a new change. */
export async function undoTo(api: Client, name: string, commit: string): Promise<void> {
  await api.send('POST', path('undo', name, commit));
}

/** Tags the newest change with the next revision (nothing when it has one). */
export async function tagNewest(api: Client, name: string): Promise<void> {
  await api.send('POST', path('tag', name));
}
