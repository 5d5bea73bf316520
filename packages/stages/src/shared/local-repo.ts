/**
 * Shared by the Debian package stages (org.osbuild.debootstrap, org.osbuild.apt): the `.deb` files
 * of an input turned into a flat apt repository in a temporary directory, the installed set read
 * from a tree's dpkg status, time stamps clamped to the source epoch, and the clean-up of what apt
 * and dpkg leave behind that an image must not carry.
 *
 * The repository holds a `pool/` of symbolic links to the input files (named `<n>.deb`, as
 * apt-ftparchive wants the suffix), a `Packages` index made by `apt-ftparchive packages` and a
 * `Release` naming the suite. It is used as `deb [trusted=yes] copy:///…  ./`: every file was
 * verified against its pinned checksum before it became an input, and the `copy:` method makes apt
 * copy each package into the tree's archive cache, where dpkg in the chroot can read it, so the
 * input directory never has to be visible inside the chroot.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageArguments } from './arguments.ts';
import { StageError } from './errors.ts';
import { exec } from './exec.ts';
import { inRoot } from './paths.ts';

export interface DebPackage {
  name: string;
  version: string;
  arch: string;
}

/** One control stanza: field names as written, values with continuation lines joined by `\n`. */
export type Stanza = Record<string, string>;

/** Parses Debian control data (a Packages index, a dpkg status file) into stanzas. */
export function parseStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(current).length > 0) stanzas.push(current);
      current = {};
      last = undefined;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      current[last] = `${current[last]}\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    current[last] = line.slice(colon + 1).trim();
  }
  if (Object.keys(current).length > 0) stanzas.push(current);
  return stanzas;
}

/** The host paths of the files of the input `name` (an org.osbuild.files input of `.deb` files). */
export function inputFiles(args: Pick<StageArguments, 'inputs'>, name = 'packages'): string[] {
  const input = args.inputs[name];
  if (!input) throw new StageError(`the input '${name}' is missing`);
  const names = input.data?.files ? Object.keys(input.data.files) : readdirSync(input.path);
  if (names.length === 0) throw new StageError(`the input '${name}' holds no files`);
  return names.sort().map((file) => {
    if (file.includes('/') || file === '.' || file === '..') {
      throw new StageError(`invalid file name '${file}' in the input '${name}'`);
    }
    const path = inRoot(input.path, file);
    if (!existsSync(path)) throw new StageError(`the input '${name}' lacks the file '${file}'`);
    return path;
  });
}

/** An APT_CONFIG that keeps the host's apt configuration (if any) out of our apt calls. */
function isolatedAptConfig(dir: string, lines: string[] = []): string {
  const empty = join(dir, 'empty.d');
  mkdirSync(empty, { recursive: true });
  const file = join(dir, 'apt.conf');
  writeFileSync(
    file,
    [`Dir::Etc::Parts "${empty}/";`, `Dir::Etc::Main "/dev/null";`, ...lines].map((l) => `${l}\n`).join(''),
  );
  return file;
}

export interface LocalRepository {
  /** The temporary directory holding the repository (and scratch files of the stage). */
  dir: string;
  /** The one-line apt source for it. */
  sourcesLine: string;
  /** Every package in it, in index order. */
  packages: DebPackage[];
  /** Removes the temporary directory. */
  remove(): void;
}

/** A flat repository over `files`, its Release naming `suite` (as suite and codename). */
export function makeRepository(files: string[], suite: string): LocalRepository {
  const dir = mkdtempSync(join(tmpdir(), 'forge-repo-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'pool'), { recursive: true });
    files.forEach((file, i) => {
      symlinkSync(file, join(repo, 'pool', `${i}.deb`));
    });
    const env = { ...process.env, APT_CONFIG: isolatedAptConfig(dir) };
    const packages = exec(['apt-ftparchive', 'packages', 'pool'], { cwd: repo, env, capture: true });
    const stanzas = parseStanzas(packages);
    if (stanzas.length !== files.length) {
      const indexed = new Set(stanzas.map((s) => s.Filename));
      const bad = files.filter((_, i) => !indexed.has(`pool/${i}.deb`));
      throw new StageError(`not Debian packages: ${bad.join(', ')}`);
    }
    writeFileSync(join(repo, 'Packages'), packages);
    const release = exec(
      [
        'apt-ftparchive',
        '-o',
        `APT::FTPArchive::Release::Suite=${suite}`,
        '-o',
        `APT::FTPArchive::Release::Codename=${suite}`,
        '-o',
        'APT::FTPArchive::Release::Label=Debian Forge inputs',
        'release',
        '.',
      ],
      { cwd: repo, env, capture: true },
    );
    writeFileSync(join(repo, 'Release'), release);
    return {
      dir,
      sourcesLine: `deb [trusted=yes] copy://${repo} ./`,
      packages: stanzas.map((s) => ({
        name: s.Package ?? '',
        version: s.Version ?? '',
        arch: s.Architecture ?? '',
      })),
      remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
}

/** Debian package names, optionally with `:arch` and `=version` (what apt's command line takes). */
export const PACKAGE_SPEC = /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9][a-z0-9-]*)?(=[A-Za-z0-9.+~:-]+)?$/;

/** The plain name of a package spec (`name[:arch][=version]`). */
export function specName(spec: string): string {
  return spec.replace(/[:=].*$/, '');
}

/** Fails with one message naming every requested package the repository does not hold. */
export function checkAvailable(specs: string[], packages: DebPackage[], what: string): void {
  const have = new Set(packages.map((p) => p.name));
  const missing = specs.filter((s) => !have.has(specName(s)));
  if (missing.length > 0) {
    throw new StageError(`${what}: not among the input packages: ${missing.join(', ')}`);
  }
}

/** The packages installed in `tree`, from its dpkg status, sorted by name and architecture. */
export function installedPackages(tree: string): DebPackage[] {
  const status = join(tree, 'var/lib/dpkg/status');
  if (!existsSync(status)) return [];
  return parseStanzas(readFileSync(status, 'utf8'))
    .filter((s) => /\sinstalled$/.test(s.Status ?? ''))
    .map((s) => ({ name: s.Package ?? '', version: s.Version ?? '', arch: s.Architecture ?? '' }))
    .sort((a, b) => (a.name === b.name ? a.arch.localeCompare(b.arch) : a.name < b.name ? -1 : 1));
}

/** The pipeline's source epoch: from the arguments, else from SOURCE_DATE_EPOCH. */
export function sourceEpoch(args: Pick<StageArguments, 'meta'>): number | undefined {
  const fromMeta = args.meta['source-epoch'];
  if (typeof fromMeta === 'number') return fromMeta;
  const fromEnv = process.env.SOURCE_DATE_EPOCH;
  return fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : undefined;
}

/** The environment for apt, dpkg and maintainer scripts. */
export function packageEnv(epoch: number | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DEBIAN_FRONTEND: 'noninteractive',
    DEBCONF_NONINTERACTIVE_SEEN: 'true',
    LC_ALL: 'C.UTF-8',
    LANGUAGE: '',
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
  };
  delete env.APT_CONFIG;
  delete env.TMPDIR;
  if (epoch !== undefined) env.SOURCE_DATE_EPOCH = String(epoch);
  return env;
}

/**
 * Sets the modification time of every file, directory and link in `root` that is newer than
 * `epoch` to `epoch` (access time too), staying on the tree's file system.
 */
export function clampMtimes(root: string, epoch: number): void {
  const top = lstatSync(root);
  const visit = (path: string, dev: number) => {
    const st = lstatSync(path);
    if (st.dev !== dev) return;
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name), dev);
    }
    if (st.mtimeMs > epoch * 1000) lutimesSync(path, epoch, epoch);
  };
  visit(root, top.dev);
}

/** Files in the tree that carry the time of the build; see `keepLogs`. */
const TIMESTAMPED_FILES = [
  'var/log/dpkg.log',
  'var/log/alternatives.log',
  'var/log/apt/history.log',
  'var/log/apt/term.log',
  'var/log/apt/eipp.log.xz',
];

/**
 * Remembers the logs that apt, dpkg and update-alternatives append time stamps to; the returned
 * function puts them back as they were (removing those that did not exist), so that the stage's
 * result does not depend on when it ran. It also removes ldconfig's aux-cache (inode numbers and
 * times), and empties /etc/machine-id when the stage created or changed it (systemd's postinst
 * writes a random one), as mmdebstrap does.
 */
export function keepLogs(tree: string): () => void {
  const saved = new Map<string, Buffer | undefined>();
  for (const rel of TIMESTAMPED_FILES) {
    const path = join(tree, rel);
    saved.set(rel, lstatSync(path, { throwIfNoEntry: false })?.isFile() ? readFileSync(path) : undefined);
  }
  const machineId = join(tree, 'etc/machine-id');
  const idBefore = lstatSync(machineId, { throwIfNoEntry: false })?.isFile()
    ? readFileSync(machineId, 'utf8')
    : undefined;
  return () => {
    for (const [rel, content] of saved) {
      const path = join(tree, rel);
      if (content === undefined) rmSync(path, { force: true });
      else if (existsSync(path) && !readFileSync(path).equals(content)) writeFileSync(path, content);
    }
    rmSync(join(tree, 'var/cache/ldconfig/aux-cache'), { force: true });
    const dbusId = join(tree, 'var/lib/dbus/machine-id');
    if (lstatSync(dbusId, { throwIfNoEntry: false })?.isFile()) unlinkSync(dbusId);
    if (lstatSync(machineId, { throwIfNoEntry: false })?.isFile()) {
      const now = readFileSync(machineId, 'utf8');
      if (now !== idBefore && now !== '') {
        const fd = openSync(machineId, 'w');
        closeSync(fd);
      }
    }
  };
}

/** Removes downloaded packages and package indices from the tree's apt directories. */
export function cleanAptState(tree: string, keepCache = false): void {
  const emptyDir = (rel: string, keep: (name: string) => boolean) => {
    const dir = join(tree, rel);
    if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
    for (const name of readdirSync(dir)) {
      if (!keep(name)) rmSync(join(dir, name), { recursive: true, force: true });
    }
  };
  emptyDir('var/lib/apt/lists', (n) => n === 'lock' || n === 'partial');
  emptyDir('var/lib/apt/lists/partial', () => false);
  emptyDir('var/cache/apt', (n) => n === 'archives' || (!n.endsWith('.bin') && !n.endsWith('.bin.tmp')));
  emptyDir('var/cache/apt/archives/partial', () => false);
  if (!keepCache) emptyDir('var/cache/apt/archives', (n) => n === 'lock' || n === 'partial');
}

/** Writes `text` to `path` as an executable (mode 0755). */
export function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}
