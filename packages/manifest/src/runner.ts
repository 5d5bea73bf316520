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

/** The runners an OSBuild 191 libdir has in `runners/` (symlinks count under their own name). */
export const OSBUILD_RUNNERS: readonly string[] = [
  'org.osbuild.AutoSD9',
  'org.osbuild.almalinux8',
  'org.osbuild.almalinux9',
  'org.osbuild.arch',
  'org.osbuild.asahi-fedora-remix',
  'org.osbuild.autosd',
  'org.osbuild.centos8',
  'org.osbuild.centos9',
  'org.osbuild.debian',
  'org.osbuild.eln11',
  'org.osbuild.fedora-asahi-remix',
  'org.osbuild.fedora30',
  'org.osbuild.fedora38',
  'org.osbuild.linux',
  'org.osbuild.ol9',
  'org.osbuild.rhel7',
  'org.osbuild.rhel81',
  'org.osbuild.rhel82',
  'org.osbuild.rhivos',
  'org.osbuild.ubuntu1804',
];

/** A runner name split as OSBuild splits it: trailing digits are the version (0 when none). */
function splitRunnerName(name: string): [string, number] {
  const m = /^(.+?)([0-9]*)$/.exec(name);
  return [m?.[1] ?? name, m?.[2] ? Number(m[2]) : 0];
}

/**
 * The runner OSBuild picks for a requested name (`Index.detect_runner`): among the available ones of
 * the same distribution, the highest version not above the requested one; `undefined` when none fits.
 * On Debian 12 the host runner `org.osbuild.debian12` is thus `org.osbuild.debian`.
 */
export function detectRunner(
  name: string,
  available: readonly string[] = OSBUILD_RUNNERS,
): string | undefined {
  const [distro, version] = splitRunnerName(name);
  let best: [string, number] | undefined;
  for (const candidate of available) {
    const [d, v] = splitRunnerName(candidate);
    if (d === distro && v <= version && (!best || v > best[1])) best = [candidate, v];
  }
  return best?.[0];
}
