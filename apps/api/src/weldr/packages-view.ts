/**
 * Debian packages in Weldr's shapes (PkgSpec, PackageInfo), the packages of a compose, and apt's
 * failures in one line. The Cloud API shows packages as PkgSpecs too.
 */
import { AptError, type PackageInfo as AptPackageInfo, type ResolvedPackage } from '@debian-forge/apt';
import { type BuiltPackage, type PlannedPackage, plannedPackage, planPackages } from '@debian-forge/composer';
import { debianEvr, parseDebianVersion } from '@debian-forge/debian-version';
import type { Compose } from '@debian-forge/store';

/** Why a package operation failed, in one line (apt's own words where apt said something). */
export function aptMessage(err: unknown): string {
  if (err instanceof AptError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * The packages of a compose's image, by name, as its stored plan has them (as apt resolved them);
 * none for a raw manifest or a compose planned before the store kept packages.
 */
export function composePackages(compose: Compose): PlannedPackage[] {
  return compose.build ? planPackages(compose.build) : [];
}

/** The packages of a compose's image built from its blueprint's source packages, by name. */
export function composeBuilt(compose: Compose): BuiltPackage[] {
  return [...(compose.build?.built ?? [])].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Weldr's PkgSpec of a package built in the compose: its version as a resolved one's, and no
 * location or checksum, since it comes from the build and not from a repository.
 */
export function builtPkgSpec(p: BuiltPackage) {
  const v = debianEvr(p.version);
  return { name: p.name, ...v, arch: p.arch, remote_location: '', checksum: '' };
}

/**
 * Weldr's PkgSpec for a .deb apt resolved (a depsolve's answer, or a package of a compose's plan):
 * the Debian version split into epoch, version and release as the plan keeps it.
 */
export function pkgSpec(resolved: ResolvedPackage | PlannedPackage) {
  const p = 'epoch' in resolved ? resolved : plannedPackage(resolved);
  return {
    name: p.name,
    epoch: p.epoch,
    version: p.version,
    release: p.release,
    arch: p.arch,
    remote_location: p.url,
    checksum: `sha256:${p.sha256}`,
  };
}

/**
 * What composer prints for a build time it does not know: Go's zero time in its format
 * (2006-01-02T15:04:05). A Debian index carries no build time, so every build shows this; a client
 * that parses the time still can, and a reader sees there is none.
 */
const UNKNOWN_BUILD_TIME = '0001-01-01T00:00:00';

/**
 * Weldr's PackageInfo for a Debian package: one build per available version, newest first. The
 * license is the index's `License` field where the archive has one (Debian's has none: a package's
 * licenses are in its /usr/share/doc/<name>/copyright, not in the index), for the newest version
 * it describes, else "" as composer prints an empty license; the build time is
 * UNKNOWN_BUILD_TIME; the other placeholders are composer's own.
 */
export function packageInfo(p: AptPackageInfo) {
  return {
    name: p.name,
    summary: p.summary,
    description: p.description,
    homepage: p.homepage,
    upstream_vcs: 'UPSTREAM_VCS',
    builds: p.versions.map((version) => {
      const v = parseDebianVersion(version);
      return {
        arch: p.architecture,
        build_time: UNKNOWN_BUILD_TIME,
        epoch: v.epoch,
        release: v.revision,
        source: {
          license: version === p.version ? p.license : '',
          version: v.upstream,
          source_ref: 'SOURCE_REF',
          metadata: {},
        },
        changelog: 'CHANGELOG_NEEDED',
        build_config_ref: 'BUILD_CONFIG_REF',
        build_env_ref: 'BUILD_ENV_REF',
        metadata: {},
      };
    }),
  };
}
