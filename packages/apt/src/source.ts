/**
 * Debian source packages at plan time: a source package (or a binary package, whose source is then
 * taken) resolved to its `.dsc` and every file it lists, each with URL, size and SHA256, so a
 * manifest can pin them as `org.osbuild.curl` sources the way depsolve pins `.deb`s.
 *
 * apt chooses, the index describes: `apt-get source --print-uris` in a root with `deb-src` entries
 * picks the source and version by apt's own rules (the newest across the suites, `name=version`,
 * a binary name mapped to its source through the index's Binary field) and prints the files with
 * the SHA256 of the signed `Sources` index; `apt-cache showsrc` gives that index's stanza of the
 * chosen `.dsc`, for what the `.dsc` file name does not tell (the epoch, the Format, the binaries,
 * the build relations the sbuild stage resolves). Both run under the root's shared lock, so they
 * read the lists of one update, and what apt printed must be exactly the stanza's files.
 *
 * apt-get source leaves out of its list the files its working directory already holds ("Skipping
 * already downloaded file"): it runs in an empty directory of the root's own, never the caller's.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isValidDebianVersion } from '@debian-forge/debian-version';
import { parsePrintUris } from './depsolve.ts';
import { AptError, AptErrorCode } from './errors.ts';
import type { AptRoot } from './root.ts';
import { debianRepositories, type Repository, readHostSources } from './sources.ts';

export interface SourceRequest {
  /** A source package's name, or a binary package's (its source is taken). */
  name: string;
  /** An exact Debian version of the source (apt's `name=version`); default the newest. */
  version?: string;
  /** Refresh the root first when its lists are stale; default true. */
  update?: boolean;
}

export interface SourceFile {
  /** The file's name, as the `.dsc` lists it. */
  filename: string;
  /** Full URL, as apt prints it (percent-quoted). */
  url: string;
  /** From the signed Sources index. */
  sha256: string;
  size: number;
}

/** The fields of a source stanza that say what a build of it needs, as the index writes them. */
export const BUILD_RELATION_FIELDS = [
  'Build-Depends',
  'Build-Depends-Arch',
  'Build-Depends-Indep',
  'Build-Conflicts',
  'Build-Conflicts-Arch',
  'Build-Conflicts-Indep',
] as const;
export type BuildRelationField = (typeof BUILD_RELATION_FIELDS)[number];

export interface ResolvedSource {
  /** The source package's name (the request may have named one of its binary packages). */
  name: string;
  /** Its version, epoch included. */
  version: string;
  /** The `.dsc`'s Format: "3.0 (quilt)", "3.0 (native)", "1.0". */
  format: string;
  dsc: SourceFile;
  /** The files the `.dsc` lists (orig and debian tarballs, signatures, diffs), in the index's order. */
  files: SourceFile[];
  /** The binary packages it builds (the Binary field). */
  binaries: string[];
  /** The Architecture field ("any", "all", "any all", a list of architectures). */
  architecture: string;
  /** The build relation fields the stanza has. */
  buildRelations: Partial<Record<BuildRelationField, string>>;
  /** Id of the repository the files come from. */
  repository: string;
}

const NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/**
 * The `deb-src` repositories for one Debian release: those `debianRepositories` gives for the
 * host's apt sources (the same mirror, suites and keyring), with `deb-src` for their type. A host
 * that names only `deb` entries still has the archive's sources at the same URIs.
 */
export function debianSourceRepositories(
  suite: string,
  host: Repository[] = readHostSources(),
): Repository[] {
  return debianRepositories(suite, host).map((r) => ({ ...r, types: ['deb-src'] }));
}

/** One stanza of apt-cache's output: field name → value, continuation lines joined by `\n`. */
function parseStanzas(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of block.split('\n')) {
      if (/^\s/.test(line) && last !== undefined) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      else if (/^[A-Za-z0-9-]+:/.test(line)) {
        last = line.slice(0, line.indexOf(':'));
        fields.set(last, line.slice(last.length + 1).trim());
      }
    }
    if (fields.has('Package')) out.push(fields);
  }
  return out;
}

/** A Checksums-Sha256 field: `sha256 size filename` lines. */
function checksums(field: string): { sha256: string; size: number; filename: string }[] {
  return field
    .split('\n')
    .map((l) => /^([0-9a-f]{64}) (\d+) (\S+)$/.exec(l.trim()))
    .filter((m) => m !== null)
    .map((m) => ({ sha256: m[1] as string, size: Number(m[2]), filename: m[3] as string }));
}

function checkRequest(request: SourceRequest): void {
  if (!NAME.test(request.name)) {
    throw new AptError(AptErrorCode.Request, `bad source package name '${request.name}'`);
  }
  if (request.version !== undefined && !isValidDebianVersion(request.version)) {
    throw new AptError(AptErrorCode.Request, `bad source version '${request.version}': not a Debian version`);
  }
}

/** The versions the root knows of a name (as a source or as a binary of one), for an error message. */
async function knownVersions(root: AptRoot, name: string): Promise<string[]> {
  const r = await root.apt('apt-cache', ['showsrc', name]);
  return [...new Set(parseStanzas(r.stdout).map((s) => `${s.get('Package')} ${s.get('Version')}`))];
}

/** Resolves a source package to its `.dsc` and files, pinned by the root's signed Sources index. */
export async function resolveSource(root: AptRoot, request: SourceRequest): Promise<ResolvedSource> {
  checkRequest(request);
  if (!root.repositories.some((r) => r.types.includes('deb-src'))) {
    throw new AptError(
      AptErrorCode.Request,
      `the apt root ${root.dir} has no deb-src repository to find source packages in`,
    );
  }
  if (request.update ?? true) await root.update();
  const spec = request.version === undefined ? request.name : `${request.name}=${request.version}`;
  const cwd = join(root.dir, 'var/cache/apt/source');
  mkdirSync(cwd, { recursive: true });
  return root.withLock('shared', async () => {
    const r = await root.apt('apt-get', ['-q', 'source', '--print-uris', spec], { cwd });
    if (r.exitCode !== 0) {
      const said = r.stderr.trim() || `apt-get source exited with status ${r.exitCode}`;
      if (/^E: Can not find version /m.test(said)) {
        const known = await knownVersions(root, request.name);
        throw new AptError(
          AptErrorCode.SourceVersion,
          `no version ${request.version} of source package '${request.name}' (known: ${known.join(', ') || 'none'}):\n${said}`,
        );
      }
      if (/^E: Unable to find a source package for /m.test(said)) {
        throw new AptError(
          AptErrorCode.SourceNotFound,
          `no source package '${request.name}', nor a binary package of that name, in the root's deb-src repositories:\n${said}`,
        );
      }
      throw new AptError(AptErrorCode.Command, said);
    }
    const printed = parsePrintUris(r.stdout);
    const dsc = printed.find((p) => p.filename.endsWith('.dsc'));
    const dscSha = /^SHA256:([0-9a-f]{64})$/.exec(dsc?.hash ?? '')?.[1];
    if (!dsc || !dscSha) {
      throw new AptError(AptErrorCode.Command, `apt-get source printed no .dsc with a SHA256:\n${r.stdout}`);
    }
    // A source package's name is its .dsc's up to the first `_` (names have none).
    const name = dsc.filename.slice(0, dsc.filename.indexOf('_'));
    const shown = await root.apt('apt-cache', ['showsrc', '--only-source', name]);
    const stanza = parseStanzas(shown.stdout).find((s) =>
      checksums(s.get('Checksums-Sha256') ?? '').some(
        (c) => c.sha256 === dscSha && c.filename === dsc.filename,
      ),
    );
    if (!stanza) {
      throw new AptError(
        AptErrorCode.Command,
        `the Sources index has no stanza of ${dsc.filename} (lists changed?)`,
      );
    }
    const listed = checksums(stanza.get('Checksums-Sha256') ?? '');
    const byName = new Map(printed.map((p) => [p.filename, p]));
    const files: SourceFile[] = listed.map((c) => {
      const p = byName.get(c.filename);
      if (!p || p.size !== c.size || p.hash !== `SHA256:${c.sha256}`) {
        throw new AptError(
          AptErrorCode.Command,
          `apt-get source and the Sources index disagree about ${c.filename} of ${name}`,
        );
      }
      return { filename: c.filename, url: p.url, sha256: c.sha256, size: c.size };
    });
    if (files.length !== printed.length) {
      throw new AptError(
        AptErrorCode.Command,
        `apt-get source printed files the Sources index does not list for ${name}`,
      );
    }
    const buildRelations: Partial<Record<BuildRelationField, string>> = {};
    for (const field of BUILD_RELATION_FIELDS) {
      const value = stanza.get(field);
      if (value !== undefined) buildRelations[field] = value.replace(/\n/g, ' ');
    }
    return {
      name,
      version: stanza.get('Version') ?? '',
      format: stanza.get('Format') ?? '',
      dsc: files.find((f) => f.filename === dsc.filename) as SourceFile,
      files: files.filter((f) => f.filename !== dsc.filename),
      binaries: (stanza.get('Binary') ?? '').split(/[\s,]+/).filter(Boolean),
      architecture: stanza.get('Architecture') ?? '',
      buildRelations,
      repository: root.repositoryOf(dsc.url)?.id ?? '',
    };
  });
}
