/**
 * Weldr blueprints/*: list, info, changes, change (v1), diff, freeze, depsolve, new, workspace,
 * delete, tag and undo, with osbuild-composer's answers and messages (WELDR-API.md §1). Blueprints
 * and their history live in the store; depsolve and freeze resolve packages with apt through the
 * package service, so frozen versions and PkgSpecs are Debian's.
 */
import type { ResolvedPackage } from '@debian-forge/apt';
import {
  acceptBlueprint,
  type Blueprint,
  BlueprintError,
  BlueprintErrorCode,
  diffResponse,
  formatIssue,
  freezeBlueprint,
  parseDocument,
  toJson,
  toToml,
} from '@debian-forge/blueprint';
import { blueprintRepositories, packageSpec } from '@debian-forge/composer';
import type { BlueprintJson } from '@debian-forge/store';
import type { FastifyRequest } from 'fastify';
import { type AppDeps, packageService } from '../deps.ts';
import { WeldrError } from '../errors.ts';
import type { PackageService } from '../services/packages.ts';
import { doc } from './openapi.ts';
import { aptMessage, pkgSpec } from './packages-view.ts';
import { checkName, formatParam, parsePage, queryValue, requestBody } from './params.ts';
import { OK, sendText, type WeldrErrorEntry } from './reply.ts';
import type { WeldrRouter } from './router.ts';

type Params = Record<string, string | undefined>;

const params = (request: FastifyRequest): Params => request.params as Params;

/** Names from a comma list; an empty list is the 404 a bare `…/info/` gets in composer. */
function namesParam(value: string | undefined): string[] {
  if (value === undefined || value === '') throw new WeldrError(404, 'HTTPError', 'Not Found');
  return (value ?? '').split(',').map((name) => checkName(name));
}

const BAD_REQUEST =
  '400 Bad Request: The browser (or proxy) sent a request that this server could not understand: ';

/**
 * A pushed blueprint, as `blueprints/new` and `blueprints/workspace` read it: Content-Type
 * `application/json` or `text/x-toml`, a name that fits the rule (else `InvalidChars`), and a
 * valid blueprint (unknown keys and bad values named by their path). Returns the blueprint, with
 * plain-text passwords hashed, and the version as the client gave it.
 */
function readBlueprint(request: FastifyRequest): { blueprint: Blueprint; versionGiven: string | undefined } {
  const { mediaType, text } = requestBody(request);
  if (mediaType === undefined) throw new WeldrError(400, 'BlueprintsError', 'missing Content-Type header');
  if (text === '') throw new WeldrError(400, 'BlueprintsError', 'Missing blueprint');
  if (mediaType !== 'application/json' && mediaType !== 'text/x-toml') {
    throw new WeldrError(400, 'BlueprintsError', `${BAD_REQUEST}blueprint must be in json or toml format`);
  }
  let doc: unknown;
  try {
    doc = parseDocument(text, mediaType === 'application/json' ? 'json' : 'toml');
  } catch (err) {
    if (err instanceof BlueprintError)
      throw new WeldrError(400, 'BlueprintsError', BAD_REQUEST + err.message);
    throw err;
  }
  const data = doc as Record<string, unknown>;
  if (typeof data.name !== 'string')
    throw new WeldrError(400, 'InvalidChars', 'Invalid characters in API path');
  checkName(data.name);
  // Hashed here, as composer's Initialize() does on push, so the workspace copy keeps no plain text.
  const r = acceptBlueprint(data);
  if (!r.ok) throw new WeldrError(400, 'BlueprintsError', r.issues.map(formatIssue).join('; '));
  const version = data.version;
  return {
    blueprint: r.blueprint,
    versionGiven: typeof version === 'string' && version !== '' ? version : undefined,
  };
}

/** The blueprint's distro, checked as composer checks it on push. */
function checkDistro(bp: Blueprint, packages: PackageService): void {
  if (bp.distro === '') return;
  const arch = bp.architecture || packages.hostArch;
  if (!packages.validDistros(arch).includes(bp.distro)) {
    throw new WeldrError(
      400,
      'BlueprintsError',
      `'${bp.distro}' is not a valid distribution (architecture '${arch}')`,
    );
  }
}

/**
 * Everything a blueprint's packages and modules need, resolved with apt for its distro and
 * architecture (the host's by default) from the distro's repositories, the user's sources and the
 * blueprint's own. Name globs are expanded against the archive first. Throws an Error whose message
 * says why.
 */
async function depsolveBlueprint(bp: Blueprint, packages: PackageService): Promise<ResolvedPackage[]> {
  const distroName = bp.distro || packages.hostDistro;
  const arch = bp.architecture || packages.hostArch;
  const distro = packages.distro(distroName, arch);
  if (!distro) throw new Error(`GetDistro - unknown distribution: ${distroName}`);
  const target = { distro, arch };
  const requests: string[] = [];
  for (const p of [...bp.packages, ...bp.modules]) {
    if (!/[*?[]/.test(p.name)) {
      requests.push(packageSpec(p));
      continue;
    }
    for (const name of await packages.expand(target, p.name)) requests.push(packageSpec({ ...p, name }));
  }
  if (requests.length === 0) return [];
  const extra = blueprintRepositories(bp.customizations?.repositories, distro);
  return packages.depsolve(target, requests, extra);
}

function asBlueprint(json: BlueprintJson): Blueprint {
  return json as unknown as Blueprint;
}

/** The stored blueprint as it goes out: the keys composer prints, in its order. */
function outgoing(json: BlueprintJson): unknown {
  return JSON.parse(toJson(asBlueprint(json)));
}

/** The blueprint routes, in this order (the OpenAPI document lists them as registered). */
export function blueprintRoutes(router: WeldrRouter, deps: AppDeps): void {
  readRoutes(router, deps);
  changesRoutes(router, deps);
  diffRoute(router, deps);
  freezeRoute(router, deps);
  depsolveRoute(router, deps);
  pushRoutes(router, deps);
  deleteRoutes(router, deps);
  revisionRoutes(router, deps);
}

/** blueprints/list (names, paged) and blueprints/info (the blueprints, their workspace copy first). */
function readRoutes(router: WeldrRouter, deps: AppDeps): void {
  const bps = deps.store.blueprints;
  router.route({
    method: 'GET',
    path: '/blueprints/list',
    schema: doc('Blueprint names, sorted (offset, limit; limit=0 gives the total)', '/blueprints/list'),
    handler: async (request) => {
      const page = parsePage(request.query);
      const all = bps.list({ offset: 0, limit: 0 }).total;
      const offset = Math.min(page.offset, all);
      const limit = Math.min(page.limit, all - offset);
      const names = limit === 0 ? [] : bps.list({ offset, limit }).items;
      return { total: all, offset, limit, blueprints: names };
    },
  });

  router.route({
    method: 'GET',
    path: '/blueprints/info/:names',
    schema: doc(
      'Blueprints by name (comma list), the workspace copy first; ?format=toml for one',
      '/blueprints/info/:names',
    ),
    handler: async (request, reply) => {
      const names = namesParam(params(request).names);
      const format = formatParam(request);
      const blueprints: unknown[] = [];
      const found: BlueprintJson[] = [];
      const changes: { changed: boolean; name: string }[] = [];
      const errors: WeldrErrorEntry[] = [];
      for (const name of names) {
        const current = bps.current(name);
        if (!current) {
          errors.push({ id: 'UnknownBlueprint', msg: `${name}: ` });
          continue;
        }
        found.push(current.blueprint);
        blueprints.push(outgoing(current.blueprint));
        changes.push({ changed: current.changed, name: current.blueprint.name });
      }
      if (format === 'json') return { blueprints, changes, errors };
      if (found.length > 1) {
        throw new WeldrError(400, 'HTTPError', 'toml format only supported when requesting one blueprint');
      }
      if (errors.length > 0) return reply.code(400).send({ status: false, errors });
      return sendText(reply, toToml(asBlueprint(found[0] as BlueprintJson)));
    },
  });
}

/** blueprints/changes (each blueprint's history, paged) and v1's blueprints/change (one at a commit). */
function changesRoutes(router: WeldrRouter, deps: AppDeps): void {
  const bps = deps.store.blueprints;
  router.route({
    method: 'GET',
    path: '/blueprints/changes/:names',
    schema: doc('The changes of blueprints, newest first (offset, limit)', '/blueprints/changes/:names'),
    handler: async (request) => {
      const names = namesParam(params(request).names);
      const page = parsePage(request.query);
      const blueprints: unknown[] = [];
      const errors: WeldrErrorEntry[] = [];
      for (const name of names) {
        const changes = bps.changes(name, page);
        if (!changes) {
          errors.push({ id: 'UnknownBlueprint', msg: name });
          continue;
        }
        blueprints.push({
          changes: changes.items.map((c) => ({
            commit: c.commit,
            message: c.message,
            revision: c.revision,
            timestamp: c.timestamp,
          })),
          name,
          total: changes.total,
        });
      }
      return { blueprints, errors, limit: page.limit, offset: page.offset };
    },
  });

  router.route({
    method: 'GET',
    path: '/blueprints/change/:name/:commit',
    schema: doc('A blueprint as it was at a commit (?format=toml)', '/blueprints/change/:name/:commit'),
    v1Only: true,
    handler: async (request, reply) => {
      const name = checkName(params(request).name ?? '');
      const commit = checkName(params(request).commit ?? '', 'commit');
      const change = bps.change(name, commit);
      if (!change) {
        throw new WeldrError(400, 'UnknownCommit', bps.exists(name) ? 'Unknown commit' : 'Unknown blueprint');
      }
      const format = formatParam(request);
      if (format === 'toml') return sendText(reply, toToml(asBlueprint(change.blueprint)));
      return outgoing(change.blueprint);
    },
  });
}

/** blueprints/diff: what the workspace copy changes against the newest commit. */
function diffRoute(router: WeldrRouter, deps: AppDeps): void {
  const bps = deps.store.blueprints;
  router.route({
    method: 'GET',
    path: '/blueprints/diff/:name/:from/:to',
    schema: doc(
      'What the workspace changes (from NEWEST to WORKSPACE only)',
      '/blueprints/diff/:name/:from/:to',
    ),
    handler: async (request) => {
      const p = params(request);
      const name = checkName(p.name ?? '');
      const from = checkName(p.from ?? '', 'commit');
      const to = checkName(p.to ?? '', 'commit');
      for (const commit of [from === 'NEWEST' ? undefined : from, to === 'WORKSPACE' ? undefined : to]) {
        if (commit !== undefined) {
          throw new WeldrError(400, 'UnknownCommit', `ggit-error: revspec '${commit}' not found (-3)`);
        }
      }
      const committed = bps.get(name);
      const current = bps.current(name);
      if (!committed || !current) {
        throw new WeldrError(404, 'UnknownBlueprint', `Unknown blueprint name: ${name}`);
      }
      return diffResponse(asBlueprint(committed.blueprint), asBlueprint(current.blueprint));
    },
  });
}

/** blueprints/freeze: blueprints with each package at the version apt resolves it to. */
function freezeRoute(router: WeldrRouter, deps: AppDeps): void {
  const bps = deps.store.blueprints;
  router.route({
    method: 'GET',
    path: '/blueprints/freeze/:names',
    schema: doc(
      'Blueprints with every package at its exact Debian version (?format=toml for one)',
      '/blueprints/freeze/:names',
    ),
    handler: async (request, reply) => {
      const names = namesParam(params(request).names);
      const packages = packageService(deps);
      const frozen: Blueprint[] = [];
      const errors: WeldrErrorEntry[] = [];
      for (const name of names) {
        const current = bps.current(name);
        if (!current) {
          errors.push({ id: 'UnknownBlueprint', msg: `${name}: blueprint not found` });
          break;
        }
        const bp = asBlueprint(current.blueprint);
        try {
          const resolved = await depsolveBlueprint(bp, packages);
          frozen.push(freezeBlueprint(bp, new Map(resolved.map((r) => [r.name, r.version]))));
        } catch (err) {
          const msg =
            err instanceof BlueprintError && err.code === BlueprintErrorCode.Freeze
              ? err.message
              : `${name}: ${aptMessage(err)}`;
          errors.push({ id: 'BlueprintsError', msg });
          break;
        }
      }
      if (queryValue(request, 'format') === 'toml') {
        if (frozen.length === 0) return sendText(reply, '');
        if (frozen.length > 1) {
          throw new WeldrError(400, 'HTTPError', 'toml format only supported when requesting one blueprint');
        }
        return sendText(reply, toToml(frozen[0] as Blueprint));
      }
      return { blueprints: frozen.map((b) => ({ blueprint: JSON.parse(toJson(b)) })), errors };
    },
  });
}

/** blueprints/depsolve: blueprints with every package they need, as PkgSpecs. */
function depsolveRoute(router: WeldrRouter, deps: AppDeps): void {
  const bps = deps.store.blueprints;
  router.route({
    method: 'GET',
    path: '/blueprints/depsolve/:names',
    schema: doc('Blueprints with every package they need (PkgSpecs)', '/blueprints/depsolve/:names'),
    handler: async (request) => {
      const names = namesParam(params(request).names);
      const packages = packageService(deps);
      const blueprints: unknown[] = [];
      const errors: WeldrErrorEntry[] = [];
      for (const name of names) {
        const current = bps.current(name);
        if (!current) {
          errors.push({ id: 'UnknownBlueprint', msg: `${name}: blueprint not found` });
          continue;
        }
        let dependencies: ReturnType<typeof pkgSpec>[] = [];
        try {
          dependencies = (await depsolveBlueprint(asBlueprint(current.blueprint), packages)).map(pkgSpec);
        } catch (err) {
          errors.push({ id: 'BlueprintsError', msg: `${name}: ${aptMessage(err)}` });
        }
        blueprints.push({ blueprint: outgoing(current.blueprint), dependencies });
      }
      return { blueprints, errors };
    },
  });
}

/** blueprints/new (a new commit) and blueprints/workspace (the workspace copy) save a pushed blueprint. */
function pushRoutes(router: WeldrRouter, deps: AppDeps): void {
  const bps = deps.store.blueprints;
  router.route({
    method: 'POST',
    path: '/blueprints/new',
    schema: doc(
      'Save a blueprint (application/json or text/x-toml); the version is bumped as composer does',
      '/blueprints/new',
    ),
    handler: async (request) => {
      const { blueprint, versionGiven } = readBlueprint(request);
      checkDistro(blueprint, packageService(deps));
      bps.push(blueprint as unknown as BlueprintJson, { versionGiven });
      return OK;
    },
  });

  router.route({
    method: 'POST',
    path: '/blueprints/workspace',
    schema: doc('Save a blueprint in the workspace only (no change, no bump)', '/blueprints/workspace'),
    handler: async (request) => {
      const { blueprint } = readBlueprint(request);
      bps.workspace.put(blueprint as unknown as BlueprintJson);
      return OK;
    },
  });
}

/** `DELETE` blueprints/workspace (the workspace copy) and blueprints/delete (with its history). */
function deleteRoutes(router: WeldrRouter, deps: AppDeps): void {
  const bps = deps.store.blueprints;
  router.route({
    method: 'DELETE',
    path: '/blueprints/workspace/:name',
    schema: doc("Drop a blueprint's workspace copy", '/blueprints/workspace/:name'),
    handler: async (request) => {
      const name = checkName(params(request).name ?? '');
      if (!bps.workspace.delete(name))
        throw new WeldrError(400, 'BlueprintsError', `Unknown blueprint: ${name}`);
      return OK;
    },
  });

  router.route({
    method: 'DELETE',
    path: '/blueprints/delete/:name',
    schema: doc('Delete a blueprint with its history', '/blueprints/delete/:name'),
    handler: async (request) => {
      const name = checkName(params(request).name ?? '');
      const existed = bps.exists(name);
      bps.delete(name);
      if (!existed) throw new WeldrError(400, 'BlueprintsError', `Unknown blueprint: ${name}`);
      return OK;
    },
  });
}

/** blueprints/tag (the next revision on the latest change) and blueprints/undo (an old commit again). */
function revisionRoutes(router: WeldrRouter, deps: AppDeps): void {
  const bps = deps.store.blueprints;
  router.route({
    method: 'POST',
    path: '/blueprints/tag/:name',
    schema: doc('Tag the latest change with the next revision', '/blueprints/tag/:name'),
    handler: async (request) => {
      const name = checkName(params(request).name ?? '');
      if (!bps.exists(name)) throw new WeldrError(400, 'BlueprintsError', 'Unknown blueprint');
      bps.tag(name);
      return OK;
    },
  });

  router.route({
    method: 'POST',
    path: '/blueprints/undo/:name/:commit',
    schema: doc('Save the blueprint of an earlier commit as a new change', '/blueprints/undo/:name/:commit'),
    handler: async (request) => {
      const name = checkName(params(request).name ?? '');
      const commit = checkName(params(request).commit ?? '', 'commit');
      if (!bps.exists(name)) throw new WeldrError(400, 'UnknownCommit', 'Unknown blueprint');
      if (!bps.change(name, commit)) throw new WeldrError(400, 'UnknownCommit', 'Unknown commit');
      bps.undo(name, commit);
      return OK;
    },
  });
}
