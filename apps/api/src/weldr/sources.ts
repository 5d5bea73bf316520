/**
 * Weldr projects/source/*: list, info, new, delete. Sources are apt repositories (`type: "deb"`
 * with `suites`, `components` and `signed_by` keyrings). As in osbuild-composer, the store keys a
 * source by v1's `id` (v0's `name` when posted through v0) and keeps v1's human `name` beside it:
 * v1 lists ids and shows `id`, `name` and `distros`; v0 lists names and shows a source under its
 * name, without `id` or `distros` (a v0 post takes none). Lookups (`info/<keys>`) go by key in both.
 * System sources (the host's Debian repositories, see services/sources.ts) are listed with
 * `system: true` and cannot be replaced or deleted (`SystemSource`).
 */
import { BlueprintError, parseDocument } from '@debian-forge/blueprint';
import { StoreError, StoreErrorCode } from '@debian-forge/store';
import { type AppDeps, packageService } from '../deps.ts';
import { WeldrError } from '../errors.ts';
import { type CatalogSource, sourceProblem, storedSource } from '../services/sources.ts';
import { doc } from './openapi.ts';
import { checkName, formatParam, isV1, requestBody } from './params.ts';
import { OK, sendText, tomlDocument, type WeldrErrorEntry } from './reply.ts';
import type { WeldrRouter } from './router.ts';

/** A source as v0 (keyed by name) or v1 (keyed by id) shows it. */
function outgoing(s: CatalogSource, v1: boolean): Record<string, unknown> {
  return {
    ...(v1 ? { id: s.id } : {}),
    name: s.name,
    type: 'deb',
    url: s.url,
    check_gpg: s.checkGpg,
    check_ssl: s.checkSsl,
    system: s.system,
    suites: s.suites,
    components: s.components,
    ...(s.signedBy.length > 0 ? { signed_by: s.signedBy } : {}),
    ...(v1 && s.distros.length > 0 ? { distros: s.distros } : {}),
    ...(v1 ? { rhsm: false } : {}),
  };
}

function problem(msg: string): WeldrError {
  return new WeldrError(400, 'ProjectsError', `Problem parsing POST body: ${msg}`);
}

function stringList(value: unknown, key: string): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw problem(`'${key}' must be a string or a list of strings`);
}

function flag(value: unknown, key: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw problem(`'${key}' must be true or false`);
  return value;
}

/** A source as posted: its key (v0 name, v1 id), its name, what the store keeps, the distros it is for. */
export interface SourceRequest extends Omit<CatalogSource, 'id' | 'system'> {
  key: string;
}

/**
 * The source in a `projects/source/new` body (JSON, or TOML optionally wrapped in a `[id]` table,
 * the first id in order when several are given; v1 takes that id when the table has none). Checks
 * what composer checks, in its order and with its messages (`name` is required in v1 too), the
 * key's name rule (`InvalidChars`), and what apt needs (`sourceProblem`): `type` "deb", a URL apt
 * can fetch, suites, components and keyrings (files or armoured key blocks) that are one line
 * each. `check_gpg` and `check_ssl` default to true. `distros` is read in v1 only, as composer's v0
 * source has no such field.
 */
export function readSource(text: string, mediaType: string, v1: boolean): SourceRequest {
  let doc: Record<string, unknown>;
  try {
    if (mediaType === 'application/json') doc = parseDocument(text, 'json') as Record<string, unknown>;
    else if (mediaType === 'text/x-toml') {
      doc = parseDocument(text, 'toml') as Record<string, unknown>;
      // The `[id]` form: every top-level value a table; the first id in order is taken.
      const entries = Object.entries(doc).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const [first] = entries;
      if (first && entries.every(([, v]) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
        const [id, table] = first as [string, Record<string, unknown>];
        doc = v1 && table.id === undefined ? { ...table, id } : table;
      }
    } else throw problem('blueprint must be in json or toml format');
  } catch (err) {
    if (err instanceof BlueprintError) throw problem(err.message);
    throw err;
  }
  const str = (k: string) => (typeof doc[k] === 'string' ? (doc[k] as string) : '');
  const key = v1 ? str('id') : str('name');
  if (v1 && key === '') throw problem("'id' field is missing from request");
  if (str('name') === '') throw problem("'name' field is missing from request");
  if (str('type') === '') throw problem("'type' field is missing from request");
  if (str('url') === '') throw problem("'url' field is missing from request");
  checkName(key, 'source');
  if (doc.type !== 'deb') {
    throw problem(`unsupported source type '${str('type')}': Debian Forge sources are of type "deb"`);
  }
  const source: SourceRequest = {
    key,
    name: str('name'),
    url: str('url'),
    suites: stringList(doc.suites, 'suites'),
    components: stringList(doc.components, 'components'),
    signedBy: [...stringList(doc.signed_by, 'signed_by'), ...stringList(doc.gpgkeys, 'gpgkeys')],
    checkGpg: flag(doc.check_gpg, 'check_gpg', true),
    checkSsl: flag(doc.check_ssl, 'check_ssl', true),
    distros: v1 ? stringList(doc.distros, 'distros') : [],
  };
  const bad = sourceProblem({ ...source, id: key });
  if (bad !== undefined) throw problem(bad);
  return source;
}

export function sourceRoutes(router: WeldrRouter, deps: AppDeps): void {
  const { store } = deps;
  const packages = packageService(deps);

  /** Every source by key: the user's, then the system ones (which win a name clash). */
  const allSources = (): Map<string, CatalogSource> => {
    const all = new Map<string, CatalogSource>();
    for (const s of store.sources.list()) all.set(s.name, storedSource(s));
    for (const s of packages.systemSources()) all.set(s.id, s);
    return all;
  };

  router.route({
    method: 'GET',
    path: '/projects/source/list',
    schema: doc('Source keys: names (v0) or ids (v1), the system sources last', '/projects/source/list'),
    handler: async (request) => {
      const system = packages.systemSources().map((s) => s.id);
      const user = store.sources
        .list()
        .filter((s) => !system.includes(s.name))
        .map((s) => (isV1(request) ? s.name : s.displayName))
        .sort();
      return { sources: [...user, ...system] };
    },
  });

  router.route({
    method: 'GET',
    path: '/projects/source/info/:sources',
    schema: doc('Sources by key (comma list, * for all); ?format=toml', '/projects/source/info/:sources'),
    handler: async (request, reply) => {
      const param = (request.params as { sources?: string }).sources ?? '';
      if (param === '') throw new WeldrError(404, 'HTTPError', 'Not Found');
      const v1 = isV1(request);
      const format = formatParam(request);
      const all = allSources();
      const sources: Record<string, Record<string, unknown>> = {};
      const errors: WeldrErrorEntry[] = [];
      const wanted = param === '*' ? [...all.keys()] : param.split(',');
      const byKey: Record<string, Record<string, unknown>> = {};
      for (const key of wanted) {
        const s = all.get(key);
        if (s) {
          byKey[key] = outgoing(s, v1);
          // v0 answers under the source's name, v1 under its id; TOML is keyed by id in both.
          sources[v1 ? key : s.name] = byKey[key];
        } else errors.push({ id: 'UnknownSource', msg: `${key} is not a valid source` });
      }
      if (format === 'toml') return sendText(reply, tomlDocument(byKey));
      return { sources, errors };
    },
  });

  router.route({
    method: 'POST',
    path: '/projects/source/new',
    schema: doc('Add or replace a deb source (application/json or text/x-toml)', '/projects/source/new'),
    handler: async (request) => {
      const { mediaType, text } = requestBody(request);
      if (mediaType === undefined) throw new WeldrError(400, 'HTTPError', 'malformed Content-Type header');
      if (text === '') throw new WeldrError(400, 'ProjectsError', 'Missing source');
      const source = readSource(text, mediaType, isV1(request));
      const invalid = source.distros.filter((d) => !packages.validDistros(packages.hostArch).includes(d));
      if (invalid.length > 0) {
        throw new WeldrError(400, 'ProjectsError', `Invalid distributions: ${invalid.join(',')}`);
      }
      if (packages.systemSources().some((s) => s.id === source.key)) {
        throw new WeldrError(400, 'SystemSource', `${source.key} is a system source, it cannot be changed.`);
      }
      try {
        store.sources.put({
          name: source.key,
          displayName: source.name,
          type: 'deb',
          url: source.url,
          suites: source.suites,
          components: source.components,
          signedBy: source.signedBy,
          checkGpg: source.checkGpg,
          checkSsl: source.checkSsl,
          distros: source.distros,
        });
      } catch (err) {
        if (err instanceof StoreError && err.code === StoreErrorCode.SystemSource) {
          throw new WeldrError(
            400,
            'SystemSource',
            `${source.key} is a system source, it cannot be changed.`,
          );
        }
        throw err;
      }
      return OK;
    },
  });

  router.route({
    method: 'DELETE',
    path: '/projects/source/delete/:source',
    schema: doc("Delete a user's source", '/projects/source/delete/:source'),
    handler: async (request) => {
      const param = (request.params as { source?: string }).source ?? '';
      const key = param.split(',')[0] ?? '';
      if (key === '') throw new WeldrError(404, 'HTTPError', 'Not Found');
      checkName(key, 'source');
      if (packages.systemSources().some((s) => s.id === key)) {
        throw new WeldrError(400, 'SystemSource', `${key} is a system source, it cannot be deleted.`);
      }
      if (!store.sources.get(key))
        throw new WeldrError(400, 'UnknownSource', `${key} is not a valid source.`);
      if (isV1(request)) store.sources.delete(key);
      else {
        // composer's v0 checks the key, then deletes the first source whose name is the one given
        // (the same source unless a v1 post gave it another name; then nothing is deleted).
        const named = store.sources.list().find((s) => !s.system && s.displayName === key);
        if (named) store.sources.delete(named.name);
      }
      return OK;
    },
  });
}
