/**
 * Local flat repositories for offline use and tests: .deb files built with `dpkg-deb --build` from a
 * control file (and optional payload files), indexed with `apt-ftparchive packages`. The result is a
 * `Repository` with `trusted: true` (no Release file, no signature), which an apt root can update
 * from and depsolve against with no network at all.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runChecked } from './exec.ts';
import type { Repository } from './sources.ts';

export interface LocalPackage {
  name: string;
  version: string;
  /** Default "all". */
  architecture?: string;
  depends?: string;
  recommends?: string;
  conflicts?: string;
  provides?: string;
  priority?: string;
  section?: string;
  essential?: boolean;
  /** A `License` field (Debian's archive has none; some other archives carry one). */
  license?: string;
  /** Default "NAME, a package of a local test repository". */
  summary?: string;
  /** Lines of the long description. */
  description?: string[];
  /** Files of the package: path inside the tree → content. */
  files?: Record<string, string>;
}

function controlFile(p: LocalPackage): string {
  const lines = [
    `Package: ${p.name}`,
    `Version: ${p.version}`,
    `Architecture: ${p.architecture ?? 'all'}`,
    'Maintainer: Debian Forge <forge@example.org>',
  ];
  if (p.priority) lines.push(`Priority: ${p.priority}`);
  if (p.section) lines.push(`Section: ${p.section}`);
  if (p.essential) lines.push('Essential: yes');
  if (p.depends) lines.push(`Depends: ${p.depends}`);
  if (p.recommends) lines.push(`Recommends: ${p.recommends}`);
  if (p.conflicts) lines.push(`Conflicts: ${p.conflicts}`);
  if (p.provides) lines.push(`Provides: ${p.provides}`);
  if (p.license) lines.push(`License: ${p.license}`);
  lines.push(`Description: ${p.summary ?? `${p.name}, a package of a local test repository`}`);
  for (const l of p.description ?? []) lines.push(l === '' ? ' .' : ` ${l}`);
  return `${lines.join('\n')}\n`;
}

export interface LocalRepositoryOptions {
  /** Also write an unsigned `Release` file (then apt needs `trusted: true`). */
  release?: boolean;
  /**
   * A Debian-style archive instead of a flat one: the same index under
   * `dists/<suite>/main/binary-<arch>/` for each suite, with an unsigned `Release` per suite.
   */
  suites?: string[];
  /** The Debian architecture of that index; default amd64. */
  arch?: string;
}

/**
 * Builds the packages into `dir` (created if needed) and writes its `Packages` index (and, with
 * `release`, an unsigned `Release` file). Returns the repository: `file:` URI, suite "./", no
 * components, trusted; with `suites`, those suites and component `main`.
 */
export async function buildLocalRepository(
  dir: string,
  packages: LocalPackage[],
  id = 'local',
  options: LocalRepositoryOptions = {},
): Promise<Repository> {
  const repo = resolve(dir);
  mkdirSync(repo, { recursive: true });
  const work = mkdtempSync(join(repo, '.build-'));
  try {
    for (const p of packages) {
      const tree = join(work, `${p.name}_${p.version}`);
      mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
      writeFileSync(join(tree, 'DEBIAN/control'), controlFile(p));
      for (const [path, content] of Object.entries(p.files ?? {})) {
        const target = join(tree, path.replace(/^\/+/, ''));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content);
      }
      const deb = join(repo, `${p.name}_${p.version.replace(/^\d+:/, '')}_${p.architecture ?? 'all'}.deb`);
      await runChecked(['dpkg-deb', '--root-owner-group', '--build', tree, deb]);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const index = await runChecked(['apt-ftparchive', 'packages', '.'], { cwd: repo });
  writeFileSync(join(repo, 'Packages'), index.stdout);
  if (options.release) {
    // An unsigned Release file: apt then needs `trusted: true` and says "not signed" without it.
    const release = await runChecked(['apt-ftparchive', 'release', '.'], { cwd: repo });
    writeFileSync(join(repo, 'Release'), release.stdout);
  }
  if (options.suites) {
    const arch = options.arch ?? 'amd64';
    for (const suite of options.suites) {
      const dists = join(repo, 'dists', suite);
      mkdirSync(join(dists, 'main', `binary-${arch}`), { recursive: true });
      writeFileSync(join(dists, 'main', `binary-${arch}`, 'Packages'), index.stdout);
      const release = await runChecked([
        'apt-ftparchive',
        '-o',
        `APT::FTPArchive::Release::Suite=${suite}`,
        '-o',
        'APT::FTPArchive::Release::Components=main',
        '-o',
        `APT::FTPArchive::Release::Architectures=${arch}`,
        'release',
        dists,
      ]);
      writeFileSync(join(dists, 'Release'), release.stdout);
    }
    return {
      id,
      types: ['deb'],
      uris: [`file:${repo}`],
      suites: options.suites,
      components: ['main'],
      trusted: true,
    };
  }
  return { id, types: ['deb'], uris: [`file:${repo}`], suites: ['./'], components: [], trusted: true };
}
