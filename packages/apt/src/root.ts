/**
 * Isolated apt roots. A root is a directory of its own under the state directory, one per
 * repository set and architecture (named by a hash of both), laid out as DEBIAN.md §9 shows:
 * its own sources, trusted parts, lists, caches and an empty dpkg status, so apt resolves as if
 * nothing were installed and never reads or writes the host's apt state.
 *
 * apt is started with `APT_CONFIG` pointing at the root's own `apt.conf` (so the host's
 * `/etc/apt/apt.conf.d` is never read: no host Install-Recommends, GzipIndexes or language
 * settings leak in) and with the `-o Dir=…` options of §9 on its command line as well.
 *
 * Keyrings: a `signedBy` that is a file path is used as it is; an ASCII-armoured block is dearmoured
 * (gpg, or sq) into the root's `keyrings/`. `update()` runs `apt-get update`, which verifies every
 * index file against the suite's signed InRelease with that keyring; any sign of a signature
 * problem in apt's output is an error (`FORGE_ERR_APT_SIGNATURE`), also when apt exits 0.
 *
 * Concurrency: `update()` holds an exclusive flock on `<root>/lock`; readers hold it shared. The
 * stamp that records the last update is written by rename, and the freshness check is repeated
 * once the lock is held, so two processes asking for an update at once run apt once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AptError, AptErrorCode } from './errors.ts';
import { type RunResult, run } from './exec.ts';
import { withLock } from './lock.ts';
import { type Repository, repositoryWriteProblem } from './sources.ts';
import { tlsConfigLines } from './tls.ts';

export interface AptRootOptions {
  /** The state directory; roots live in `<stateDir>/apt/<arch>-<hash>`. */
  stateDir: string;
  repositories: Repository[];
  /** Debian architecture; default amd64. */
  arch?: string;
  /** An update older than this is stale; default 3600 (1 h). */
  maxAgeSeconds?: number;
  /** How long to wait for another process's update; default 600. */
  lockTimeoutSeconds?: number;
}

export interface UpdateResult {
  /** Whether this call ran `apt-get update` (false: the lists were fresh, or another process just refreshed them). */
  updated: boolean;
  /** When the lists in use were fetched. */
  at: Date;
  /** Wall time of this call. */
  seconds: number;
}

export interface IndexTarget {
  /** The list file apt keeps (uncompressed). */
  file: string;
  /** "Packages" or "Translations". */
  identifier: string;
  /** The repository's base URI with a trailing slash; a Packages `Filename` is relative to it. */
  repoUri: string;
  suite: string;
  component: string;
  /** The repository the target comes from. */
  repository: Repository;
}

interface Stamp {
  at: string;
  generation: string;
}

const ARMOUR_BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';

/**
 * Words in apt's output that mean a repository's signature did not verify. ("does not have a Release
 * file" is not among them: apt says it both for a suite that does not exist and for an unsigned flat
 * repository without a Release file, so it is an update error; an unsigned Release is "not signed".)
 */
const SIGNATURE_FAILURES = [
  'NO_PUBKEY',
  'EXPKEYSIG',
  'REVKEYSIG',
  'BADSIG',
  'not signed',
  "The following signatures couldn't be verified",
  'The following signatures were invalid',
  'is not signed',
  'GPG error',
  'OpenPGP signature verification failed',
];

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The repository fields that decide a root's content, in a fixed order. */
function canonicalRepository(r: Repository): unknown {
  return {
    id: r.id,
    types: r.types,
    uris: r.uris,
    suites: r.suites,
    components: r.components,
    signedBy: r.signedBy ?? null,
    architectures: r.architectures ?? null,
    trusted: r.trusted ?? false,
    // Only when set, so the roots of repositories without it keep the keys they had.
    ...(r.verifyTls === false ? { verifyTls: false } : {}),
  };
}

/** The key of a root: sha256 over the architecture and the repositories, in order. */
export function rootKey(repositories: Repository[], arch: string): string {
  return sha256(JSON.stringify({ arch, repositories: repositories.map(canonicalRepository) }));
}

function writeAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

function normaliseUri(uri: string): string {
  return uri.replace(/\/+$/, '');
}

export class AptRoot {
  readonly dir: string;
  readonly key: string;
  readonly arch: string;
  readonly repositories: readonly Repository[];
  readonly maxAgeSeconds: number;
  readonly lockTimeoutSeconds: number;

  private constructor(options: AptRootOptions, dir: string, key: string, arch: string) {
    this.dir = dir;
    this.key = key;
    this.arch = arch;
    this.repositories = options.repositories.map((r) => ({ ...r }));
    this.maxAgeSeconds = options.maxAgeSeconds ?? 3600;
    this.lockTimeoutSeconds = options.lockTimeoutSeconds ?? 600;
  }

  /** Opens (creating when needed) the root for these repositories and architecture. */
  static async open(options: AptRootOptions): Promise<AptRoot> {
    const arch = options.arch ?? 'amd64';
    if (!/^[a-z0-9-]+$/.test(arch)) throw new AptError(AptErrorCode.Request, `bad architecture '${arch}'`);
    if (options.repositories.length === 0) {
      throw new AptError(AptErrorCode.Request, 'an apt root needs at least one repository');
    }
    const ids = new Set<string>();
    for (const r of options.repositories) {
      // Before anything is written: the sources file (create) takes its values from here only.
      const unsafe = repositoryWriteProblem(r);
      if (unsafe !== undefined) throw new AptError(AptErrorCode.Sources, unsafe, { repository: r.id });
      if (ids.has(r.id)) throw new AptError(AptErrorCode.Request, `repository id '${r.id}' given twice`);
      ids.add(r.id);
      if (r.uris.length === 0 || r.suites.length === 0) {
        throw new AptError(AptErrorCode.Request, `repository '${r.id}' needs URIs and suites`);
      }
      for (const s of r.suites) {
        if (!s.endsWith('/') && r.components.length === 0) {
          throw new AptError(
            AptErrorCode.Request,
            `repository '${r.id}': suite '${s}' needs components (only a flat suite ending in '/' has none)`,
          );
        }
      }
    }
    const stateDir = resolve(options.stateDir);
    if (/["\n\\]/.test(stateDir)) {
      throw new AptError(
        AptErrorCode.Request,
        `the state directory may not contain quotes, backslashes or newlines: ${stateDir}`,
      );
    }
    const key = rootKey(options.repositories, arch);
    const dir = join(stateDir, 'apt', `${arch}-${key.slice(0, 16)}`);
    const root = new AptRoot(options, dir, key, arch);
    if (!existsSync(join(dir, 'repositories.json'))) {
      mkdirSync(dir, { recursive: true });
      await withLock(root.lockPath, 'exclusive', root.lockTimeoutSeconds, () => root.create());
    }
    return root;
  }

  get lockPath(): string {
    return join(this.dir, 'lock');
  }

  get configPath(): string {
    return join(this.dir, 'etc/apt/apt.conf');
  }

  /** The `-o` options of DEBIAN.md §9 (the same settings are in the root's apt.conf). */
  aptOptions(): string[] {
    const d = this.dir;
    return [
      '-o',
      `Dir=${d}/`,
      '-o',
      `Dir::State::status=${d}/var/lib/dpkg/status`,
      '-o',
      `APT::Architecture=${this.arch}`,
      '-o',
      `Dir::Etc::trusted=${d}/etc/apt/trusted.gpg`,
      '-o',
      `Dir::Etc::trustedparts=${d}/etc/apt/trusted.gpg.d`,
      '-o',
      'Debug::NoLocking=1',
    ];
  }

  /** The environment apt runs with: its configuration is the root's, never the host's. */
  aptEnv(): Record<string, string> {
    return { APT_CONFIG: this.configPath };
  }

  /**
   * Runs apt-get or apt-cache in this root (no lock taken; callers hold one). `cwd` matters to
   * `apt-get source`, which leaves out of its list the files the directory already holds.
   */
  apt(
    program: 'apt-get' | 'apt-cache',
    args: string[],
    options: { timeoutMs?: number; cwd?: string } = {},
  ): Promise<RunResult> {
    return run([program, ...this.aptOptions(), ...args], {
      env: this.aptEnv(),
      timeout: options.timeoutMs ?? 600_000,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
  }

  /** Runs `fn` holding the root's lock (shared for readers, exclusive for writers). */
  withLock<T>(mode: 'shared' | 'exclusive', fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockPath, mode, this.lockTimeoutSeconds, fn);
  }

  /** The last successful update, or undefined when there was none. */
  lastUpdate(): { at: Date; generation: string } | undefined {
    try {
      const stamp = JSON.parse(readFileSync(join(this.dir, 'updated.json'), 'utf8')) as Stamp;
      return { at: new Date(stamp.at), generation: stamp.generation };
    } catch {
      return undefined;
    }
  }

  /** Whether the lists are younger than `maxAgeSeconds`. */
  isFresh(now = Date.now()): boolean {
    const last = this.lastUpdate();
    return last !== undefined && now - last.at.getTime() < this.maxAgeSeconds * 1000;
  }

  /**
   * Refreshes the lists when they are stale or `force` is set; reuses them otherwise. A forced
   * update that waited for another process's update, finished after this call began, reuses it.
   */
  async update(options: { force?: boolean } = {}): Promise<UpdateResult> {
    const began = Date.now();
    const t0 = performance.now();
    const seconds = () => (performance.now() - t0) / 1000;
    const last = this.lastUpdate();
    if (!options.force && last && this.isFresh(began))
      return { updated: false, at: last.at, seconds: seconds() };
    return this.withLock('exclusive', async () => {
      const now = this.lastUpdate();
      if (now && (now.at.getTime() > began || (!options.force && this.isFresh()))) {
        return { updated: false, at: now.at, seconds: seconds() };
      }
      const r = await this.apt('apt-get', ['-q', 'update']);
      try {
        this.checkUpdate(r);
        // Build apt's binary cache now, under the exclusive lock, so that readers (which hold the
        // lock shared and may run at the same time) find it ready and never write it themselves.
        const g = await this.apt('apt-cache', ['gencaches']);
        if (g.exitCode !== 0) {
          throw new AptError(
            AptErrorCode.Command,
            `apt-cache gencaches failed (${g.exitCode}): ${g.stderr.trim()}`,
          );
        }
      } catch (e) {
        // apt may have replaced the lists of the repositories that did work: keep the old time (the
        // root is as stale as before) but a new generation, so cached indices are read again.
        if (now) {
          await this.apt('apt-cache', ['gencaches']);
          this.writeStamp(now.at);
        }
        throw e;
      }
      const at = new Date();
      this.writeStamp(at);
      return { updated: true, at, seconds: seconds() };
    });
  }

  private writeStamp(at: Date): void {
    const stamp: Stamp = {
      at: at.toISOString(),
      generation: `${Date.now()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    };
    writeAtomic(join(this.dir, 'updated.json'), `${JSON.stringify(stamp)}\n`);
  }

  /** The list files of the last update with the repository each comes from (apt's own mapping). */
  async indexTargets(): Promise<IndexTarget[]> {
    const format = [
      '$(FILENAME)',
      '$(IDENTIFIER)',
      '$(REPO_URI)',
      '$(RELEASE)',
      '$(COMPONENT)',
      '$(SOURCESENTRY)',
    ];
    const r = await this.apt('apt-get', ['indextargets', '--format', format.join('\t')]);
    if (r.exitCode !== 0) {
      throw new AptError(
        AptErrorCode.Command,
        `apt-get indextargets failed (${r.exitCode}): ${r.stderr.trim()}`,
      );
    }
    const targets: IndexTarget[] = [];
    for (const line of r.stdout.split('\n')) {
      const [file, identifier, repoUri, suite, component, entry] = line.split('\t');
      if (!file || !identifier || !repoUri || !entry || !existsSync(file)) continue;
      const stanza = Number(/:(\d+)$/.exec(entry)?.[1] ?? Number.NaN);
      const repository = this.repositories[stanza - 1];
      if (!repository) continue;
      targets.push({
        file,
        identifier,
        repoUri,
        suite: suite ?? '',
        component: component === '$(COMPONENT)' ? '' : (component ?? ''),
        repository,
      });
    }
    return targets;
  }

  /** Finds the repository an apt message line is about, by URI and suite. */
  repositoryOf(line: string): Repository | undefined {
    let best: { repo: Repository; score: number } | undefined;
    for (const repo of this.repositories) {
      for (const uri of repo.uris) {
        const u = normaliseUri(uri);
        const at = line.indexOf(u);
        if (at < 0) continue;
        const after = line.slice(at + u.length);
        const suiteHit = repo.suites.some((s) => new RegExp(`[\\s/]${escapeRegExp(s)}(\\s|/|$)`).test(after));
        const score = u.length + (suiteHit ? 10_000 : 0);
        if (!best || score > best.score) best = { repo, score };
      }
    }
    return best?.repo;
  }

  private checkUpdate(r: RunResult): void {
    const lines = `${r.stdout}\n${r.stderr}`.split('\n');
    const messages: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (/^(E|W|Err):/.test(line) && !line.includes('unsandboxed')) {
        messages.push(line);
        // An "Err:" line's reason follows on indented lines; they count with it.
        const keep = line.startsWith('Err:');
        while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1] ?? '')) {
          const next = lines[++i] ?? '';
          if (keep) messages.push(next);
        }
      }
    }
    const signature = messages.filter((m) => SIGNATURE_FAILURES.some((s) => m.includes(s)));
    if (signature.length > 0) {
      const repo = signature.map((m) => this.repositoryOf(m)).find((x) => x !== undefined);
      const names = [
        ...new Set(signature.map((m) => this.repositoryOf(m)?.id).filter((x) => x !== undefined)),
      ];
      const text = [...new Set(signature.filter((m) => /^(E|W):/.test(m)))].join('\n');
      throw new AptError(
        AptErrorCode.Signature,
        `signature verification failed for repository ${names.length > 0 ? names.map((n) => `'${n}'`).join(', ') : '(unknown)'}` +
          `${repo ? ` (${repo.uris.join(' ')} ${repo.suites.join(' ')}, keyring ${describeKeyring(repo)})` : ''}:\n${text || signature.join('\n')}`,
        repo ? { repository: repo.id } : undefined,
      );
    }
    const failed = messages.filter(
      (m) => /^(E:|Err:|\s)/.test(m) || /^W: (Failed to fetch|Some index files failed)/.test(m),
    );
    if (r.exitCode !== 0 || failed.length > 0) {
      const repo = failed.map((m) => this.repositoryOf(m)).find((x) => x !== undefined);
      throw new AptError(
        AptErrorCode.Update,
        `apt-get update failed${repo ? ` for repository '${repo.id}'` : ''} (exit status ${r.exitCode}):\n${(failed.length > 0 ? failed : lines.slice(-8)).join('\n').trim()}`,
        repo ? { repository: repo.id } : undefined,
      );
    }
  }

  /** Lays out the root: directories, empty status, keyrings, sources, apt.conf, repositories.json. */
  private async create(): Promise<void> {
    const d = this.dir;
    if (existsSync(join(d, 'repositories.json'))) return;
    for (const sub of [
      'etc/apt/sources.list.d',
      'etc/apt/apt.conf.d',
      'etc/apt/preferences.d',
      'etc/apt/trusted.gpg.d',
      'keyrings',
      'var/lib/apt/lists/partial',
      'var/cache/apt/archives/partial',
      'var/lib/dpkg',
      'var/log/apt',
    ]) {
      mkdirSync(join(d, sub), { recursive: true });
    }
    if (!existsSync(join(d, 'var/lib/dpkg/status'))) writeFileSync(join(d, 'var/lib/dpkg/status'), '');
    const stanzas: string[] = [];
    for (const repo of this.repositories) {
      const fields = [
        `Types: ${repo.types.join(' ')}`,
        `URIs: ${repo.uris.join(' ')}`,
        `Suites: ${repo.suites.join(' ')}`,
      ];
      if (repo.components.length > 0) fields.push(`Components: ${repo.components.join(' ')}`);
      if (repo.signedBy) fields.push(`Signed-By: ${await this.keyring(repo)}`);
      if (repo.architectures?.length) fields.push(`Architectures: ${repo.architectures.join(' ')}`);
      if (repo.trusted) fields.push('Trusted: yes');
      stanzas.push(`# ${repo.id}\n${fields.join('\n')}\n`);
    }
    writeAtomic(join(d, 'etc/apt/sources.list.d/forge.sources'), stanzas.join('\n'));
    const conf = [
      `Dir "${d}/";`,
      `Dir::State::status "${d}/var/lib/dpkg/status";`,
      `Dir::Etc::trusted "${d}/etc/apt/trusted.gpg";`,
      `Dir::Etc::trustedparts "${d}/etc/apt/trusted.gpg.d";`,
      `APT::Architecture "${this.arch}";`,
      `APT::Architectures { "${this.arch}"; };`,
      'Debug::NoLocking "true";',
      'Acquire::Languages { "en"; };',
      'Acquire::PDiffs "false";',
      'Acquire::Retries "3";',
      'APT::Install-Recommends "false";',
      'APT::Install-Suggests "false";',
      ...tlsConfigLines(this.repositories),
      '',
    ].join('\n');
    writeAtomic(this.configPath, conf);
    writeAtomic(
      join(d, 'repositories.json'),
      `${JSON.stringify({ arch: this.arch, key: this.key, repositories: this.repositories }, null, 2)}\n`,
    );
  }

  /** The keyring file apt should use for a repository: the path as given, or a dearmoured copy. */
  private async keyring(repo: Repository): Promise<string> {
    const signedBy = repo.signedBy ?? '';
    if (signedBy.includes(ARMOUR_BEGIN)) {
      const path = join(this.dir, 'keyrings', `${sha256(signedBy).slice(0, 16)}.gpg`);
      if (!existsSync(path)) writeAtomic(path, await dearmor(signedBy, join(this.dir, 'keyrings'), repo.id));
      return path;
    }
    if (signedBy.startsWith('/') && !signedBy.includes('\n')) {
      if (!existsSync(signedBy)) {
        throw new AptError(
          AptErrorCode.Keyring,
          `repository '${repo.id}': keyring ${signedBy} does not exist`,
          {
            repository: repo.id,
          },
        );
      }
      return signedBy;
    }
    throw new AptError(
      AptErrorCode.Keyring,
      `repository '${repo.id}': signed-by must be a keyring file path or an ASCII-armoured public key block`,
      { repository: repo.id },
    );
  }
}

function describeKeyring(repo: Repository): string {
  if (!repo.signedBy) return 'none';
  return repo.signedBy.includes(ARMOUR_BEGIN) ? 'inline key block' : repo.signedBy;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Dearmours a public key block into a binary keyring, with gpg or, failing that, sq. */
async function dearmor(block: string, workDir: string, id: string): Promise<Uint8Array> {
  const home = join(workDir, `.gnupg-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(home, { mode: 0o700 });
  const out = join(home, 'out.gpg');
  const attempts: string[][] = [
    ['gpg', '--batch', '--no-options', '--homedir', home, '--output', out, '--dearmor'],
    ['sq', 'toolbox', 'dearmor', '--output', out],
    ['sq', 'dearmor', '--output', out],
  ];
  const errors: string[] = [];
  try {
    for (const argv of attempts) {
      let r: RunResult;
      try {
        r = await run(argv, { input: block });
      } catch (e) {
        errors.push((e as Error).message);
        continue;
      }
      if (r.exitCode === 0 && existsSync(out)) return readFileSync(out);
      errors.push(`${argv.slice(0, 2).join(' ')}: ${r.stderr.trim() || `exit status ${r.exitCode}`}`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  throw new AptError(
    AptErrorCode.Keyring,
    `repository '${id}': cannot dearmour its key block:\n${errors.join('\n')}`,
    {
      repository: id,
    },
  );
}

/** Opens (creating when needed) the isolated apt root for a repository set and architecture. */
export function openRoot(options: AptRootOptions): Promise<AptRoot> {
  return AptRoot.open(options);
}
