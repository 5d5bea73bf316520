/**
 * Runner names as OSBuild derives them: `org.osbuild.<ID><VERSION_ID>` from os-release, the dots
 * of the version removed (Debian 12 → `org.osbuild.debian12`, Fedora 41 → `org.osbuild.fedora41`).
 */
export function hostRunnerName(osRelease: string): string {
  const fields = new Map<string, string>();
  for (const line of osRelease.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) fields.set(m[1], m[2].replace(/^(["'])(.*)\1$/, '$2'));
  }
  const id = fields.get('ID') ?? 'linux';
  const version = (fields.get('VERSION_ID') ?? '').replace(/\./g, '');
  return `org.osbuild.${id}${version}`;
}
