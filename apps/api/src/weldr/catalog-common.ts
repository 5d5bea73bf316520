/**
 * What the blueprint, project and source routes share beyond weldr/common.ts: the request body with
 * its media type, text answers (TOML) under Weldr's JSON content type, the distro and architecture
 * query parameters, and Debian packages in Weldr's shapes (PackageInfo, PkgSpec).
 */
import {
  AptError,
  type PackageInfo as AptPackageInfo,
  parseDebianVersion,
  type ResolvedPackage,
} from '@debian-forge/apt';
import { type Blueprint, toToml } from '@debian-forge/blueprint';
import { type PlannedPackage, plannedPackage } from '@debian-forge/composer';
import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { WeldrError } from '../errors.ts';
import type { PackageService, PackageTarget } from '../services/packages.ts';

/** A route's OpenAPI entry: its summary and its path parameters (strings, checked by the handler). */
export function doc(summary: string, path: string): FastifySchema {
  const names = [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string);
  return {
    summary,
    ...(names.length > 0 ? { params: z.object(Object.fromEntries(names.map((n) => [n, z.string()]))) } : {}),
  };
}

/** Variants of a route kept for clients (a trailing slash, no names) but not worth an OpenAPI entry. */
export const HIDDEN: FastifySchema = { hide: true };

export const WELDR_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Sends text (TOML, an empty answer) with the content type every Weldr answer has. */
export function sendText(reply: FastifyReply, text: string): FastifyReply {
  return reply.header('content-type', WELDR_CONTENT_TYPE).send(text);
}

export interface RequestBody {
  /** The media type without parameters, lower case; undefined without a Content-Type header. */
  mediaType: string | undefined;
  text: string;
}

/** The raw body (the Weldr scope parses every body as a string) and its media type. */
export function requestBody(request: FastifyRequest): RequestBody {
  const header = request.headers['content-type'];
  const mediaType = header === undefined ? undefined : (header.split(';')[0] as string).trim().toLowerCase();
  const body = request.body;
  return { mediaType, text: typeof body === 'string' ? body : '' };
}

/** A query parameter as one string ("" when absent; the first when repeated). */
export function queryValue(request: FastifyRequest, key: string): string {
  const v = (request.query as Record<string, unknown> | undefined)?.[key];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : '';
}

/** `?format=json|toml` (json by default); anything else is `InvalidChars` naming the value. */
export function formatParam(request: FastifyRequest): 'json' | 'toml' {
  const format = queryValue(request, 'format');
  if (format === '' || format === 'json') return 'json';
  if (format === 'toml') return 'toml';
  throw new WeldrError(400, 'InvalidChars', `invalid format parameter: ${format}`);
}

/**
 * A table of tables (sources by id) as TOML, printed as composer's encoder prints it. `toToml`
 * prints any plain table that way; a blueprint is only the usual one.
 */
export function tomlDocument(tables: Record<string, Record<string, unknown>>): string {
  return Object.keys(tables).length === 0 ? '' : toToml(tables as unknown as Blueprint);
}

export function packageService(deps: AppDeps): PackageService {
  if (!deps.packages) throw new Error('the app was built without a package service');
  return deps.packages;
}

/**
 * `?distro=` and `?arch=`: the host's by default; a distro that does not exist for the
 * architecture is `DistroError` "Invalid distro: x" (400). A distro left out on an architecture it
 * does not build is reported by the caller with its own error id.
 */
export function queryTarget(
  request: FastifyRequest,
  packages: PackageService,
): { distroName: string; arch: string; target: PackageTarget | undefined } {
  const arch = queryValue(request, 'arch') || packages.hostArch;
  const asked = queryValue(request, 'distro');
  if (asked !== '' && !packages.validDistros(arch).includes(asked)) {
    throw new WeldrError(400, 'DistroError', `Invalid distro: ${asked}`);
  }
  const distroName = asked || packages.hostDistro;
  const distro = packages.distro(distroName, arch);
  return { distroName, arch, target: distro ? { distro, arch } : undefined };
}

/** Why a package operation failed, in one line (apt's own words where apt said something). */
export function aptMessage(err: unknown): string {
  if (err instanceof AptError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
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
