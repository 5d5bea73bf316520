/**
 * Freezing, as Weldr's `blueprints/freeze` does it: every package and module gets the exact version
 * the depsolve chose, and name globs expand to every resolved package they match. The service runs
 * the depsolve and passes its result as a map from package name to exact Debian version.
 */
import { BlueprintError, BlueprintErrorCode } from './errors.ts';
import { matches } from './package-versions.ts';
import type { Blueprint, PackageSpec } from './schema.ts';

export type ResolvedVersions = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

function entriesOf(resolved: ResolvedVersions): [string, string][] {
  if (resolved instanceof Map) return [...resolved.entries()];
  return Object.keys(resolved).map((k) => [k, (resolved as Record<string, string>)[k] as string]);
}

function globRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

function freezeError(blueprint: string, message: string): BlueprintError {
  return new BlueprintError(BlueprintErrorCode.Freeze, `${blueprint}: ${message}`, [{ path: [], message }]);
}

/**
 * The packages (or modules) of a blueprint with exact versions: sorted by name, one entry per
 * name and version. Throws a BlueprintError (code Freeze) when a package without a glob is not in
 * `resolved` ("<name> missing from depsolve results", composer's words) or when a resolved version
 * does not satisfy the blueprint's constraint.
 */
export function freezePackages(
  blueprint: string,
  packages: readonly PackageSpec[],
  resolved: ResolvedVersions,
): PackageSpec[] {
  const all = entriesOf(resolved);
  const lookup = new Map(all);
  const out = new Map<string, PackageSpec>();
  for (const pkg of packages) {
    if (/[*?]/.test(pkg.name)) {
      const re = globRegExp(pkg.name);
      for (const [name, version] of all) {
        if (re.test(name)) out.set(`${name}\u0000${version}`, { name, version });
      }
      continue;
    }
    const version = lookup.get(pkg.name) ?? lookup.get(pkg.name.split(':')[0] as string);
    if (version === undefined) throw freezeError(blueprint, `${pkg.name} missing from depsolve results`);
    if (!matches(pkg.version, version)) {
      throw freezeError(
        blueprint,
        `${pkg.name}: the resolved version ${version} does not satisfy the constraint "${pkg.version}"`,
      );
    }
    out.set(`${pkg.name}\u0000${version}`, { name: pkg.name, version });
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A frozen copy of the blueprint: packages and modules pinned to the resolved versions. */
export function freezeBlueprint(bp: Blueprint, resolved: ResolvedVersions): Blueprint {
  return {
    ...bp,
    packages: freezePackages(bp.name, bp.packages, resolved),
    modules: freezePackages(bp.name, bp.modules, resolved),
  };
}
