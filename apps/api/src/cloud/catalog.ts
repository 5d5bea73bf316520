/**
 * Cloud API v2 beyond composes: GET /distributions (distro → architecture → image type →
 * repositories), POST /depsolve/blueprint, POST /search/packages (through the app's package
 * service), and GET /openapi (this app's generated document, the Cloud API's paths only).
 */

import { checkBlueprint } from '@debian-forge/blueprint';
import { DISTROS, listImageTypes, packageSpec } from '@debian-forge/composer';
import { parseDebianVersion } from '@debian-forge/debian-version';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type AppDeps, packageService } from '../deps.ts';
import { ApiError } from '../errors.ts';
import type { PackageService, PackageTarget } from '../services/packages.ts';
import { aptMessage, pkgSpec } from '../weldr/packages-view.ts';
import { invalidBlueprint } from './blueprint.ts';
import { CLOUD_PREFIX } from './prefix.ts';

function targetOf(
  packages: PackageService,
  distribution: string | undefined,
  architecture: string | undefined,
): PackageTarget {
  const arch = architecture || packages.hostArch;
  const name = distribution || packages.hostDistro;
  const distro = packages.distro(name, arch);
  if (!distro) throw new ApiError(400, 'UnsupportedDistribution', `no distribution ${name} for ${arch}`);
  return { distro, arch };
}

/** Apt's failures as 400s with its words (unknown packages, conflicts). */
function aptFailure(err: unknown): never {
  if (err instanceof ApiError) throw err;
  throw new ApiError(400, 'FailedToDepsolve', aptMessage(err));
}

const depsolveBody = z.object({
  blueprint: z.object({
    name: z.string().optional(),
    distro: z.string().optional(),
    architecture: z.string().optional(),
    packages: z.array(z.object({ name: z.string(), version: z.string().optional() })).optional(),
    modules: z.array(z.object({ name: z.string(), version: z.string().optional() })).optional(),
  }),
  distribution: z.string().optional(),
  architecture: z.string().optional(),
});

const searchBody = z.object({
  packages: z.array(z.string()).min(1),
  distribution: z.string().optional(),
  architecture: z.string().optional(),
});

export async function cloudCatalogRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const tags = ['cloud'];

  app.get(
    '/distributions',
    { schema: { tags, summary: 'Distributions, architectures, image types and repositories' } },
    async () => {
      const packages = packageService(deps);
      const out: Record<
        string,
        Record<string, Record<string, { baseurl: string; rhsm: boolean; check_gpg: boolean }[]>>
      > = {};
      for (const distro of DISTROS) {
        let repos: { baseurl: string; rhsm: boolean; check_gpg: boolean }[] = [];
        try {
          repos = packages.repositories(distro).map((r) => ({
            baseurl: r.uris[0] ?? '',
            rhsm: false,
            check_gpg: r.trusted !== true,
          }));
        } catch {
          // no Debian repository in the host's apt sources: the distro is listed without any
        }
        out[distro.name] = {};
        for (const arch of Object.keys(distro.arches)) {
          (out[distro.name] as Record<string, unknown>)[arch] = Object.fromEntries(
            listImageTypes(distro, arch).map((t) => [t.name, repos]),
          );
        }
      }
      return out;
    },
  );

  app.post(
    '/depsolve/blueprint',
    { schema: { tags, summary: "Resolve a blueprint's packages", body: depsolveBody } },
    async (request) => {
      const body = request.body as z.infer<typeof depsolveBody>;
      // Its packages are checked as a compose's are (the name is not kept: any will do).
      const checked = checkBlueprint({ ...body.blueprint, name: 'depsolve' });
      if (!checked.ok) throw invalidBlueprint(checked.issues, (path) => ['blueprint', ...path]);
      const packages = packageService(deps);
      const target = targetOf(
        packages,
        body.distribution ?? body.blueprint.distro,
        body.architecture ?? body.blueprint.architecture,
      );
      const requests = [...(body.blueprint.packages ?? []), ...(body.blueprint.modules ?? [])].map(
        packageSpec,
      );
      const resolved = await packages.depsolve(target, requests).catch(aptFailure);
      return {
        packages: resolved.map((p) => {
          const spec = pkgSpec(p);
          return {
            type: 'deb',
            name: spec.name,
            version: spec.version,
            release: spec.release,
            epoch: spec.epoch,
            arch: spec.arch,
            checksum: spec.checksum,
            remote_location: spec.remote_location,
          };
        }),
      };
    },
  );

  app.post(
    '/search/packages',
    { schema: { tags, summary: 'Package details by name or glob', body: searchBody } },
    async (request) => {
      const body = request.body as z.infer<typeof searchBody>;
      const packages = packageService(deps);
      const target = targetOf(packages, body.distribution, body.architecture);
      const found = await packages.info(target, body.packages).catch(aptFailure);
      return {
        packages: found.map((p) => {
          const v = parseDebianVersion(p.version);
          return {
            name: p.name,
            summary: p.summary,
            description: p.description,
            url: p.homepage,
            version: v.upstream,
            release: v.revision,
            epoch: v.epoch,
            arch: p.architecture,
            buildtime: '',
            license: '',
          };
        }),
      };
    },
  );

  app.get(
    '/openapi',
    { schema: { tags, summary: 'The OpenAPI document of the Cloud API routes' } },
    async (request) => {
      const document = request.server.swagger() as { paths?: Record<string, unknown> };
      const paths = Object.fromEntries(
        Object.entries(document.paths ?? {}).filter(
          ([path]) => path === CLOUD_PREFIX || path.startsWith(`${CLOUD_PREFIX}/`),
        ),
      );
      return { ...document, paths };
    },
  );
}
