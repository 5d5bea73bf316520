/**
 * The host's Debian repositories as sources.list lines, the mirrors the benches give mmdebstrap,
 * so it fetches from where forge does (`debianRepositories` of the host's apt sources).
 */
import type { Repository } from '@debian-forge/apt';

export function mirrorLines(repos: Repository[]): string[] {
  const out: string[] = [];
  for (const r of repos) {
    const key = r.signedBy && !r.signedBy.includes('BEGIN PGP') ? ` [signed-by=${r.signedBy}]` : '';
    for (const uri of r.uris) out.push(`deb${key} ${uri} ${r.suites.join(' ')} ${r.components.join(' ')}`);
  }
  return out;
}
