/**
 * For the tests of the Debian package stages: real `.deb` files from the Debian mirror the host's
 * apt sources name, resolved by apt in an isolated apt root of our own (the host's apt state is
 * never touched) and kept in a cache under the system's temporary directory, keyed by suite, that
 * later runs reuse without any network access. Each file is verified against the SHA256 of the
 * signed Packages index. The mirror's address is read from the host's configuration each time and
 * never written into the cache (which records pool paths only).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { InputArgument } from './arguments.ts';
import { parseStanzas } from './local-repo.ts';

export interface HostMirror {
  uri: string;
  /** The release code name (the first suite without a `-` suffix), e.g. bookworm. */
  suite: string;
  signedBy: string;
}

/** The first Debian `deb` source with a plain suite and `main` in the host's apt configuration. */
export function hostMirror(): HostMirror | undefined {
  const entries: {
    types: string[];
    uris: string[];
    suites: string[];
    components: string[];
    signedBy?: string;
  }[] = [];
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  for (const name of files) {
    const text = readFileSync(join(dir, name), 'utf8');
    if (name.endsWith('.sources')) {
      for (const s of parseStanzas(text.replace(/^#.*\n?/gm, ''))) {
        if ((s.Enabled ?? 'yes') === 'no') continue;
        const words = (v?: string) => (v ?? '').split(/\s+/).filter(Boolean);
        entries.push({
          types: words(s.Types),
          uris: words(s.URIs),
          suites: words(s.Suites),
          components: words(s.Components),
          signedBy: s['Signed-By']?.includes('\n') ? undefined : s['Signed-By'],
        });
      }
    }
  }
  const list = '/etc/apt/sources.list';
  const lines = existsSync(list) ? readFileSync(list, 'utf8').split('\n') : [];
  for (const name of files.filter((n) => n.endsWith('.list'))) {
    lines.push(...readFileSync(join(dir, name), 'utf8').split('\n'));
  }
  for (const line of lines) {
    const m = /^\s*(deb)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const signedBy = /signed-by=(\S+)/.exec(m[2] ?? '')?.[1];
    entries.push({
      types: ['deb'],
      uris: [m[3] ?? ''],
      suites: [m[4] ?? ''],
      components: (m[5] ?? '').split(/\s+/).filter(Boolean),
      signedBy,
    });
  }
  for (const e of entries) {
    const suite = e.suites.find((s) => /^[a-z]+$/.test(s));
    const uri = e.uris[0];
    if (e.types.includes('deb') && suite && uri && e.components.includes('main')) {
      return {
        uri: uri.replace(/\/+$/, ''),
        suite,
        signedBy: e.signedBy ?? '/usr/share/keyrings/debian-archive-keyring.gpg',
      };
    }
  }
  return undefined;
}

/** The packages cannot be had here (no mirror configured, mirror unreachable): tests skip. */
export class DebsUnavailable extends Error {
  override readonly name = 'DebsUnavailable';
}

export interface CachedDeb {
  name: string;
  version: string;
  arch: string;
  /** Path in the archive, e.g. pool/main/l/less/less_590-2_amd64.deb. */
  filename: string;
  sha256: string;
  size: number;
  /** Where the verified file lies in the cache. */
  path: string;
}

export function cacheRoot(): string {
  return process.env.FORGE_DEB_CACHE ?? join(tmpdir(), 'forge-deb-cache');
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function run(argv: string[], input?: string): string {
  const [cmd, ...rest] = argv;
  return execFileSync(cmd as string, rest, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    input,
  });
}

/** Resolves `request` (apt patterns and names) with apt in an isolated root, returning pool entries. */
function resolve(
  mirror: HostMirror,
  suite: string,
  arch: string,
  request: string[],
  recommends: boolean,
): Omit<CachedDeb, 'path'>[] {
  const root = mkdtempSync(join(tmpdir(), 'forge-aptroot-'));
  try {
    for (const d of [
      'etc/apt/sources.list.d',
      'etc/apt/apt.conf.d',
      'etc/apt/preferences.d',
      'etc/apt/trusted.gpg.d',
      'var/lib/apt/lists/partial',
      'var/cache/apt/archives/partial',
      'var/lib/dpkg',
    ]) {
      mkdirSync(join(root, d), { recursive: true });
    }
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
    writeFileSync(
      join(root, 'etc/apt/sources.list.d/debian.sources'),
      `Types: deb\nURIs: ${mirror.uri}\nSuites: ${suite}\nComponents: main\nSigned-By: ${mirror.signedBy}\n`,
    );
    const o = [
      '-o',
      `Dir=${root}`,
      '-o',
      `Dir::State::status=${root}/var/lib/dpkg/status`,
      '-o',
      `APT::Architecture=${arch}`,
      '-o',
      `APT::Architectures=${arch}`,
      '-o',
      `Dir::Etc::trusted=${root}/etc/apt/trusted.gpg`,
      '-o',
      `Dir::Etc::trustedparts=${root}/etc/apt/trusted.gpg.d`,
      '-o',
      'Debug::NoLocking=1',
      '-o',
      'Acquire::Languages=none',
      '-o',
      `APT::Install-Recommends=${recommends}`,
    ];
    try {
      run(['apt-get', ...o, '-q', 'update']);
    } catch (err) {
      throw new DebsUnavailable(`apt-get update from the host's mirror failed: ${(err as Error).message}`);
    }
    const uris = run(['apt-get', ...o, '-q', '--print-uris', '-y', 'install', ...request])
      .split('\n')
      .filter((l) => l.startsWith("'"))
      .map((l) => decodeURIComponent(l.slice(1, l.indexOf("'", 1))));
    const names = [...new Set(uris.map((u) => (basename(u).split('_')[0] ?? '').replace(/%3a/gi, ':')))];
    const shown = parseStanzas(run(['apt-cache', ...o, 'show', ...names]));
    return uris.map((uri) => {
      const s = shown.find((st) => st.Filename && uri.endsWith(`/${st.Filename}`));
      if (!s) throw new Error(`no Packages entry for ${uri}`);
      return {
        name: s.Package ?? '',
        version: s.Version ?? '',
        arch: s.Architecture ?? '',
        filename: s.Filename ?? '',
        sha256: s.SHA256 ?? '',
        size: Number(s.Size),
      };
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The `.deb` files apt would install for `request` on an empty system of `suite` (recommended
 * packages only with `recommends`): resolved once and cached (with the files) under
 * `cacheRoot()/<suite>`. Throws when the host names no mirror or the mirror cannot be reached and
 * nothing is cached.
 */
export function debsFor(
  request: string[],
  options: { suite?: string; arch?: string; recommends?: boolean } = {},
): CachedDeb[] {
  const recommends = options.recommends ?? false;
  const mirror = hostMirror();
  const suite = options.suite ?? mirror?.suite;
  const arch = options.arch ?? 'amd64';
  if (!suite) throw new DebsUnavailable('the host has no Debian apt source to take packages from');
  const dir = join(cacheRoot(), suite);
  mkdirSync(join(dir, 'debs'), { recursive: true });
  const key = createHash('sha256')
    .update(JSON.stringify({ arch, request, recommends }))
    .digest('hex')
    .slice(0, 16);
  const index = join(dir, `resolved-${key}.json`);
  let entries: Omit<CachedDeb, 'path'>[];
  if (existsSync(index)) {
    entries = JSON.parse(readFileSync(index, 'utf8'));
  } else {
    if (!mirror) throw new DebsUnavailable('the host has no Debian apt source to take packages from');
    entries = resolve(mirror, suite, arch, request, recommends);
    const tmp = `${index}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(entries, null, 1)}\n`);
    renameSync(tmp, index);
  }
  return entries.map((e) => {
    const path = join(dir, 'debs', basename(e.filename));
    return { ...e, path: cachedDownload(mirror && `${mirror.uri}/${e.filename}`, path, e) };
  });
}

/**
 * `path`, holding the file of `expected` size and SHA256: the one already there, or one downloaded
 * from `url` (undefined: the host names no mirror) and verified before it is renamed into place.
 */
export function cachedDownload(
  url: string | undefined,
  path: string,
  expected: { sha256: string; size: number },
): string {
  if (existsSync(path) && statSync(path).size === expected.size && sha256File(path) === expected.sha256) {
    return path;
  }
  if (!url) throw new DebsUnavailable(`${basename(path)} is not cached and the host names no mirror`);
  const tmp = `${path}.${process.pid}.part`;
  const r = spawnSync('curl', ['-sSfL', '--retry', '3', '-o', tmp, url], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new DebsUnavailable(`download of ${basename(path)} failed: ${r.stderr.trim()}`);
  }
  const got = sha256File(tmp);
  if (got !== expected.sha256) {
    rmSync(tmp, { force: true });
    throw new Error(`${basename(path)}: SHA256 ${got}, the index says ${expected.sha256}`);
  }
  renameSync(tmp, path);
  return path;
}

/**
 * Lays `debs` (or any files pinned by SHA256) out as the engine lays out an org.osbuild.files input:
 * each file named `sha256:<hex>` in `dir` (hard links into the cache where possible), with
 * `data.files` listing them.
 */
export function debInput(dir: string, debs: Pick<CachedDeb, 'sha256' | 'path'>[]): InputArgument {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Record<string, unknown>> = {};
  for (const deb of debs) {
    const name = `sha256:${deb.sha256}`;
    const target = join(dir, name);
    if (!existsSync(target)) {
      try {
        linkSync(deb.path, target);
      } catch {
        copyFileSync(deb.path, target);
      }
    }
    files[name] = {};
  }
  return { path: dir, data: { files } };
}

/** Why the Debian package stage tests cannot run here, or undefined when they can. */
export function debianSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mmdebstrap --mode=root, chroot, mounts)';
  for (const tool of ['mmdebstrap', 'apt-ftparchive', 'apt-get', 'dpkg-deb', 'unshare', 'bwrap', 'curl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

/**
 * A listing of every entry under `root` (path, type, mode, owner, size, mtime, link target and
 * content hash), sorted, to compare two trees byte for byte.
 */
export function treeListing(root: string): string {
  const out = run(['find', root, '-printf', '%P\\t%y\\t%m\\t%u:%g\\t%s\\t%T@\\t%l\\n']);
  const lines = out.split('\n').filter(Boolean).sort();
  return lines
    .map((line) => {
      const [rel, type] = line.split('\t');
      if (type !== 'f') return line;
      return `${line}\t${sha256File(join(root, rel ?? ''))}`;
    })
    .join('\n');
}
