/** What a blueprint needs installed: its packages and their dependencies, resolved by the service. */
import { ApiFailure, type Client, segments, WELDR } from './client.ts';

/** A resolved Debian package, its version split as Weldr's PkgSpec splits it. */
export interface PkgSpec {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
}

interface DepsolveAnswer {
  blueprints: { dependencies: PkgSpec[] }[];
  errors: { id: string; msg: string }[];
}

/**
 * Every package the blueprint brings in. The service answers a failed resolution (no mirror, a
 * package apt cannot find) with HTTP 200 and an error beside an empty list: that is thrown here.
 */
export async function blueprintDependencies(api: Client, name: string): Promise<PkgSpec[]> {
  const answer = await api.get<DepsolveAnswer>(`${WELDR}/blueprints/depsolve/${segments(name)}`);
  const failed = answer.errors[0];
  if (failed) throw new ApiFailure(200, failed.id, failed.msg);
  return answer.blueprints[0]?.dependencies ?? [];
}
