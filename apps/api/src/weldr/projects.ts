/**
 * Weldr projects/*, modules/* and distros/list over the Debian archive of a distro (the package
 * service): projects are Debian packages in Weldr's PackageInfo shape, modules are the same
 * packages listed with `group_type: "deb"` (Debian has no modularity), dependencies are PkgSpecs
 * with Debian's epoch, version, release and architecture. Messages and error ids are
 * osbuild-composer's.
 */
import type { FastifyRequest } from 'fastify';
import { type AppDeps, packageService } from '../deps.ts';
import { WeldrError } from '../errors.ts';
import type { PackageService, PackageTarget } from '../services/packages.ts';
import { doc, HIDDEN } from './openapi.ts';
import { aptMessage, packageInfo, pkgSpec } from './packages-view.ts';
import { parsePage, queryTarget, queryValue } from './params.ts';
import type { WeldrRouter } from './router.ts';

/** Package names and globs from a comma list; a `/` or a dot segment is refused as in other names. */
function packageNames(param: string | undefined): string[] {
  const names = (param ?? '').split(',').filter((n) => n !== '');
  for (const n of names) {
    if (!/^[A-Za-z0-9.+_*?[\]-]+$/.test(n) || n === '.' || n === '..') {
      throw new WeldrError(400, 'InvalidChars', 'Invalid characters in API path');
    }
  }
  return names;
}

const namesOf = (request: FastifyRequest): string | undefined => (request.params as { names?: string }).names;

/**
 * The distro and architecture of a listing, or the error composer gives when packages cannot be
 * fetched for them (`<errorId>` "msg: GetDistro - unknown distribution: x").
 */
function listTarget(request: FastifyRequest, packages: PackageService, errorId: string): PackageTarget {
  const { distroName, target } = queryTarget(request, packages);
  if (!target) throw new WeldrError(400, errorId, `msg: GetDistro - unknown distribution: ${distroName}`);
  return target;
}

async function fetching<T>(errorId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WeldrError) throw err;
    throw new WeldrError(400, errorId, `msg: ${aptMessage(err)}`);
  }
}

export function projectRoutes(router: WeldrRouter, deps: AppDeps): void {
  const packages = packageService(deps);

  const projectsList = async (request: FastifyRequest) => {
    const page = parsePage(request.query);
    const target = listTarget(request, packages, 'ProjectsError');
    return fetching('ProjectsError', async () => {
      const found = await packages.search(target, undefined, page);
      const infos =
        found.packages.length === 0
          ? []
          : await packages.info(
              target,
              found.packages.map((p) => p.name),
            );
      return { total: found.total, offset: page.offset, limit: page.limit, projects: infos.map(packageInfo) };
    });
  };
  router.route({
    method: 'GET',
    path: '/projects/list',
    schema: doc('Debian packages of a distro as PackageInfo (offset, limit, distro, arch)', '/projects/list'),
    handler: projectsList,
  });
  router.route({ method: 'GET', path: '/projects/list/', schema: HIDDEN, handler: projectsList });

  /** projects/info and modules/info: the same records, modules/info with each package depsolved. */
  const info = (modules: boolean) => async (request: FastifyRequest) => {
    const errorId = modules ? 'ModulesError' : 'ProjectsError';
    const unknownId = modules ? 'UnknownModule' : 'UnknownProject';
    const names = packageNames(namesOf(request));
    if (names.length === 0) throw new WeldrError(400, unknownId, 'No packages specified.');
    const target = listTarget(request, packages, errorId);
    const found = await fetching(errorId, () => packages.info(target, names));
    if (found.length === 0) throw new WeldrError(400, unknownId, 'No packages have been found.');
    const infos = found.map(packageInfo);
    if (!modules) return { projects: infos };
    const withDeps = [];
    for (const p of infos) {
      let dependencies: ReturnType<typeof pkgSpec>[];
      try {
        dependencies = (await packages.depsolve(target, [p.name])).map(pkgSpec);
      } catch (err) {
        throw new WeldrError(400, errorId, `Cannot depsolve package ${p.name}: ${aptMessage(err)}`);
      }
      withDeps.push({ ...p, dependencies });
    }
    return { modules: withDeps };
  };
  for (const [base, modules, summary] of [
    ['/projects/info', false, 'Debian packages by name or glob (comma list) as PackageInfo (distro, arch)'],
    ['/modules/info', true, 'Debian packages by name or glob as PackageInfo with their dependencies'],
  ] as const) {
    router.route({ method: 'GET', path: base, schema: HIDDEN, handler: info(modules) });
    router.route({ method: 'GET', path: `${base}/`, schema: HIDDEN, handler: info(modules) });
    const path = `${base}/:names`;
    router.route({ method: 'GET', path, schema: doc(summary, path), handler: info(modules) });
  }

  const depsolveHandler = async (request: FastifyRequest) => {
    const names = packageNames(namesOf(request));
    if (names.length === 0) throw new WeldrError(400, 'UnknownProject', 'No packages specified.');
    const { distroName, target } = queryTarget(request, packages);
    if (!target) throw new WeldrError(400, 'DistroError', `Unknown distribution: ${distroName}`);
    try {
      return { projects: (await packages.depsolve(target, names)).map(pkgSpec) };
    } catch (err) {
      throw new WeldrError(400, 'ProjectsError', `BadRequest: ${aptMessage(err)}`);
    }
  };
  router.route({ method: 'GET', path: '/projects/depsolve', schema: HIDDEN, handler: depsolveHandler });
  router.route({ method: 'GET', path: '/projects/depsolve/', schema: HIDDEN, handler: depsolveHandler });
  router.route({
    method: 'GET',
    path: '/projects/depsolve/:names',
    schema: doc(
      'Every package a fresh system needs for these (PkgSpecs; distro, arch)',
      '/projects/depsolve/:names',
    ),
    handler: depsolveHandler,
  });

  const modulesList = async (request: FastifyRequest) => {
    const page = parsePage(request.query);
    const target = listTarget(request, packages, 'ModulesError');
    const names = packageNames(namesOf(request));
    const found = await fetching('ModulesError', () =>
      packages.search(target, names.length > 0 ? names : undefined, page),
    );
    if (found.total === 0) throw new WeldrError(400, 'UnknownModule', 'No packages have been found.');
    return {
      total: found.total,
      offset: page.offset,
      limit: page.limit,
      modules: found.packages.map((p) => ({ name: p.name, group_type: 'deb' })),
    };
  };
  router.route({
    method: 'GET',
    path: '/modules/list',
    schema: doc('Debian package names with group_type "deb" (offset, limit, distro, arch)', '/modules/list'),
    handler: modulesList,
  });
  router.route({ method: 'GET', path: '/modules/list/', schema: HIDDEN, handler: modulesList });
  router.route({
    method: 'GET',
    path: '/modules/list/:names',
    schema: doc('Debian package names matching globs (comma list), group_type "deb"', '/modules/list/:names'),
    handler: modulesList,
  });

  router.route({
    method: 'GET',
    path: '/distros/list',
    schema: doc('Distros that build the architecture (?arch=)', '/distros/list'),
    v1Only: true,
    handler: async (request) => ({
      distros: packages.validDistros(queryValue(request, 'arch') || packages.hostArch),
    }),
  });
}
