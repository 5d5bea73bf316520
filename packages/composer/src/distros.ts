/**
 * The Debian releases Debian Forge builds, as osbuild-composer names distros (`debian-12`), with
 * what manifests need from each: the suite, the runner, and the architectures.
 */
export interface Distro {
  /** Composer's distro name, e.g. `debian-12`. */
  name: string;
  /** Debian suite (codename), e.g. `bookworm`. */
  suite: string;
  /** Release number as a string, e.g. `12`. */
  release: string;
  /** OSBuild runner for pipelines of this distro. */
  runner: string;
  /** Composer architecture names this distro builds for, mapped to Debian's. */
  arches: Record<string, string>;
}

export const DISTROS: readonly Distro[] = [
  {
    name: 'debian-12',
    suite: 'bookworm',
    release: '12',
    runner: 'org.osbuild.debian12',
    arches: { x86_64: 'amd64' },
  },
  {
    name: 'debian-13',
    suite: 'trixie',
    release: '13',
    runner: 'org.osbuild.debian13',
    arches: { x86_64: 'amd64' },
  },
];

export const DEFAULT_DISTRO = 'debian-12';

export function getDistro(name: string): Distro | undefined {
  return DISTROS.find((d) => d.name === name);
}
