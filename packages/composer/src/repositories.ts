/**
 * A blueprint's own repositories (`customizations.repositories`, Debian form) as apt repositories:
 * `uri` (or composer's `baseurls`), suites (default: the distro's), components (default `main`,
 * none for a flat repository such as `./`), a keyring (`signed_by`, or composer's `gpgkeys`), and
 * `trusted`. Disabled entries are left out.
 */
import type { Repository } from '@debian-forge/apt';
import type { RepositoryCustomization } from '@debian-forge/blueprint';
import type { Distro } from './distros.ts';

export function blueprintRepositories(
  repos: RepositoryCustomization[] | undefined,
  distro: Distro,
): Repository[] {
  return (repos ?? [])
    .filter((r) => r.enabled !== false)
    .map((r) => {
      const suites = r.suites?.length ? r.suites : [distro.suite];
      const flat = suites.every((s) => s.endsWith('/'));
      const signedBy = r.signed_by ?? r.gpgkeys?.[0];
      return {
        id: `blueprint-${r.id}`,
        types: ['deb'],
        uris: r.uri ? [r.uri] : (r.baseurls ?? []),
        suites,
        components: r.components?.length ? r.components : flat ? [] : ['main'],
        ...(r.architectures ? { architectures: r.architectures } : {}),
        ...(signedBy ? { signedBy } : {}),
        ...(r.trusted ? { trusted: true } : {}),
      } satisfies Repository;
    });
}
