/**
 * The Weldr calls of the blueprint editor: one blueprint as stored, its save, and the distros a
 * blueprint may name.
 */
import type { Blueprint } from '@debian-forge/blueprint/schema';
import { type Client, segments, WELDR } from './client.ts';

export interface StoredBlueprint {
  blueprint: Blueprint;
  /** The workspace holds changes not yet committed: `blueprint` is that copy. */
  changed: boolean;
}

interface InfoAnswer {
  blueprints: Blueprint[];
  changes: { name: string; changed: boolean }[];
  errors: { id: string; msg: string }[];
}

/** The blueprint as `blueprints/info` gives it (the workspace copy first), or null when there is none. */
export async function blueprintInfo(api: Client, name: string): Promise<StoredBlueprint | null> {
  const answer = await api.get<InfoAnswer>(`${WELDR}/blueprints/info/${segments(name)}`);
  const blueprint = answer.blueprints[0];
  if (!blueprint) return null;
  return { blueprint, changed: answer.changes[0]?.changed ?? false };
}

/**
 * Saves a blueprint as a new commit (`blueprints/new`): the version is the one given, or the
 * stored one with its patch number raised when it is left as it was.
 */
export async function saveBlueprint(api: Client, blueprint: unknown): Promise<void> {
  await api.send('POST', `${WELDR}/blueprints/new`, blueprint);
}

/** The distros this service builds for the host's architecture. */
export async function distros(api: Client): Promise<string[]> {
  return (await api.get<{ distros: string[] }>(`${WELDR}/distros/list`)).distros;
}
