/**
 * Debian source packages from the machine that plans (issue "Debian packages built from source"):
 * a source tree with `debian/`, or a `.dsc` with its files beside it, made into a `ResolvedSource`
 * whose files travel inside the manifest as `org.osbuild.inline` items, since no mirror serves them.
 *
 * A tree is never touched: it is copied (without version control directories) into a directory of
 * the caller's work dir, every copied file's time set to the source epoch, and `dpkg-source -b` runs
 * on the copy with SOURCE_DATE_EPOCH, so the same tree planned twice gives the same tarballs and
 * the same `.dsc`, and so the same manifest and store objects. A non-native format takes the
 * upstream tarballs from beside the tree, as dpkg-source itself looks for them.
 *
 * A `.dsc` is read as strictly as the org.osbuild.debian.source stage reads it (the same reader):
 * each file it lists must be beside it with the size and SHA256 it says, checked here so a bad file
 * is named at plan time rather than found by the stage.
 *
 * The files are carried in the manifest, so their total is capped (`maxBytes`).
 */
import { createHash } from 'node:crypto';
import {
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILD_RELATION_FIELDS, type ResolvedSource, type SourceFile } from '@debian-forge/apt';
import { run } from '@debian-forge/host';
import { clearsignedText, parseDsc } from '@debian-forge/stages/dsc';
import type { InlineItems } from './customizations.ts';
import { ComposerError, ComposerErrorCode } from './errors.ts';

export interface LocalSourceOptions {
  /** A directory of the caller's; the copy of a tree and dpkg-source's files go in a new directory in it. */
  workDir: string;
  /** SOURCE_DATE_EPOCH for dpkg-source; default the time of debian/changelog's first entry. */
  sourceEpoch?: number;
  /** The most bytes the `.dsc` and its files may have together; default 64 MiB. */
  maxBytes?: number;
}

export interface LocalSource {
  source: ResolvedSource;
  /** The `.dsc` and every file it lists, by `sha256:` reference. */
  inline: InlineItems;
}

export const LOCAL_SOURCE_MAX_BYTES = 64 * 1024 * 1024;

/** The `repository` of a local source: its files come from no repository. */
export const LOCAL_REPOSITORY = 'local';

/** Directories of version control systems, left out of the copy as dpkg-source's default -I leaves them out. */
const VCS_DIRS = new Set(['.git', '.svn', '.hg', '.bzr', 'CVS', '_darcs', '.arch-ids', '{arch}']);

/** A tree of this many times the cap is refused before it is copied. */
const TREE_FACTOR = 8;

function fail(message: string, code: ComposerErrorCode = ComposerErrorCode.LocalSource): ComposerError {
  return new ComposerError(code, message);
}

function tooLarge(what: string, bytes: number, max: number): ComposerError {
  return fail(
    `${what} has ${bytes} bytes, more than the ${max} a manifest may carry`,
    ComposerErrorCode.LocalSourceSize,
  );
}

/** A source package from a tree with `debian/` or from a `.dsc`. */
export async function localSource(path: string, options: LocalSourceOptions): Promise<LocalSource> {
  const abs = resolve(path);
  const max = options.maxBytes ?? LOCAL_SOURCE_MAX_BYTES;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(abs);
  } catch {
    throw fail(`${abs} does not exist: a local source is a tree with debian/ or a .dsc`);
  }
  if (st.isFile() && abs.endsWith('.dsc')) return readLocalDsc(abs, max);
  if (st.isDirectory() && isDirectory(join(abs, 'debian'))) return buildFromTree(abs, options, max);
  throw fail(`${abs} is not a source package: neither a directory with debian/ nor a .dsc file`);
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

async function buildFromTree(tree: string, options: LocalSourceOptions, max: number): Promise<LocalSource> {
  const changelog = await readChangelog(join(tree, 'debian/changelog'));
  const epoch = options.sourceEpoch ?? changelog.timestamp;
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw fail(`bad source epoch ${epoch}`);
  const noEpoch = changelog.version.replace(/^\d+:/, '');
  const dash = noEpoch.lastIndexOf('-');
  const upstream = dash < 0 ? noEpoch : noEpoch.slice(0, dash);
  const format = sourceFormat(tree);
  mkdirSync(options.workDir, { recursive: true });
  const work = mkdtempSync(join(options.workDir, 'local-source-'));
  const copy = join(work, `${changelog.source}-${upstream}`);
  copyTree(tree, copy, max * TREE_FACTOR);
  if (format !== '3.0 (native)') {
    const origs = origTarballs(dirname(tree), changelog.source, upstream);
    if (origs.length === 0 && format === '3.0 (quilt)') {
      throw fail(
        `${tree} is a 3.0 (quilt) source, and ${dirname(tree)} has no ${changelog.source}_${upstream}.orig.tar.* beside it`,
      );
    }
    for (const o of origs) cpSync(join(dirname(tree), o), join(work, o));
  }
  setTimes(work, epoch);
  const r = await run(['dpkg-source', '--build', basename(copy)], {
    cwd: work,
    env: { LC_ALL: 'C', SOURCE_DATE_EPOCH: String(epoch) },
    okCodes: 'any',
  });
  if (r.exitCode !== 0) {
    const tail = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-12).join('\n');
    throw fail(
      `dpkg-source could not build a source package of ${tree} (exit status ${r.exitCode}):\n${tail}`,
    );
  }
  // The copy served dpkg-source only: the .dsc and its files are what the plan keeps.
  rmSync(copy, { recursive: true, force: true });
  return readLocalDsc(join(work, `${changelog.source}_${noEpoch}.dsc`), max);
}

/** debian/source/format's one line; a tree without it is "1.0", as dpkg-source takes it. */
function sourceFormat(tree: string): string {
  let text: string;
  try {
    text = readFileSync(join(tree, 'debian/source/format'), 'utf8');
  } catch {
    return '1.0';
  }
  return text.trim();
}

/** The upstream tarballs of `source`'s `upstream` version in `dir` (and their signatures). */
function origTarballs(dir: string, source: string, upstream: string): string[] {
  const prefix = `${source}_${upstream}.orig`;
  return readdirSync(dir)
    .filter(
      (n) =>
        n.startsWith(prefix) &&
        /^(-[a-z0-9][a-z0-9-]*)?\.tar\.[a-z0-9]+(\.asc)?$/.test(n.slice(prefix.length)),
    )
    .filter((n) => statSync(join(dir, n)).isFile())
    .sort();
}

interface Changelog {
  source: string;
  version: string;
  timestamp: number;
}

/** The first entry of debian/changelog, as dpkg-parsechangelog reads it; warnings are errors. */
async function readChangelog(path: string): Promise<Changelog> {
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) throw fail(`${path} is missing`);
  const r = await run(['dpkg-parsechangelog', '--file', path, '--count', '1'], {
    env: { LC_ALL: 'C' },
    okCodes: 'any',
  });
  const fields = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Za-z-]+): (.*)$/.exec(line);
    if (m) fields.set(m[1] as string, m[2] as string);
  }
  const source = fields.get('Source') ?? '';
  const version = fields.get('Version') ?? '';
  const timestamp = Number(fields.get('Timestamp'));
  if (
    r.exitCode !== 0 ||
    /warning:/.test(r.stderr) ||
    !source ||
    !version ||
    !Number.isSafeInteger(timestamp)
  ) {
    throw fail(
      `${path} is not a valid Debian changelog:\n${r.stderr.trim() || 'no source, version or date'}`,
    );
  }
  return { source, version, timestamp };
}

/** Copies `from` to `to` without version control directories, refusing more than `max` bytes. */
function copyTree(from: string, to: string, max: number): void {
  let bytes = 0;
  cpSync(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => {
      const st = lstatSync(src);
      if (st.isDirectory()) return !VCS_DIRS.has(basename(src));
      bytes += st.size;
      if (bytes > max) throw tooLarge(`the source tree ${from}`, bytes, max);
      return true;
    },
  });
}

/** Every entry's times to the epoch, so what tar records does not depend on when the tree was copied. */
function setTimes(dir: string, epoch: number): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) setTimes(p, epoch);
    if (!e.isSymbolicLink()) utimesSync(p, epoch, epoch);
  }
  utimesSync(dir, epoch, epoch);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A `.dsc` and the files it lists, each beside it and checked against it. */
function readLocalDsc(path: string, max: number): LocalSource {
  const dir = dirname(path);
  const dscSize = statSync(path).size;
  if (dscSize > max) throw tooLarge(path, dscSize, max);
  const bytes = readFileSync(path);
  let dsc: ReturnType<typeof parseDsc>;
  try {
    dsc = parseDsc(clearsignedText(bytes.toString('utf8')));
  } catch (err) {
    throw new ComposerError(ComposerErrorCode.LocalSource, `${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const total = dsc.files.reduce((n, f) => n + f.size, dscSize);
  if (total > max) throw tooLarge(`${path} with the files it lists`, total, max);
  const inline: InlineItems = {};
  const file = (filename: string, data: Buffer): SourceFile => {
    const digest = sha256(data);
    inline[`sha256:${digest}`] = { encoding: 'base64', data: data.toString('base64') };
    return { filename, url: pathToFileURL(join(dir, filename)).href, sha256: digest, size: data.length };
  };
  const files = dsc.files.map((f) => {
    const p = join(dir, f.filename);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st?.isFile()) {
      throw fail(
        `${f.filename}, which ${basename(path)} lists, is not beside it in ${dir}`,
        ComposerErrorCode.LocalSourceFile,
      );
    }
    if (st.size !== f.size) {
      throw fail(
        `${p} has ${st.size} bytes, ${basename(path)} says ${f.size}`,
        ComposerErrorCode.LocalSourceFile,
      );
    }
    const data = readFileSync(p);
    const made = file(f.filename, data);
    if (made.sha256 !== f.sha256) {
      throw fail(
        `${p} has SHA256 ${made.sha256}, ${basename(path)} says ${f.sha256}`,
        ComposerErrorCode.LocalSourceFile,
      );
    }
    return made;
  });
  const fields = dsc.fields;
  const buildRelations: ResolvedSource['buildRelations'] = {};
  for (const field of BUILD_RELATION_FIELDS) {
    const value = fields[field];
    if (value !== undefined) buildRelations[field] = value.replace(/\s*\n\s*/g, ' ').trim();
  }
  return {
    source: {
      name: dsc.source,
      version: dsc.version,
      format: dsc.format,
      dsc: file(basename(path), bytes),
      files,
      binaries: (fields.Binary ?? '').split(/[\s,]+/).filter(Boolean),
      architecture: (fields.Architecture ?? '').trim(),
      buildRelations,
      repository: LOCAL_REPOSITORY,
    },
    inline,
  };
}
