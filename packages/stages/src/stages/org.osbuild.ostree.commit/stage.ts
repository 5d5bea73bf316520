import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

const TABLE_KEYS: Record<string, string> = {
  'Metadata Total': 'ostree-n-metadata-total',
  'Metadata Written': 'ostree-n-metadata-written',
  'Content Total': 'ostree-n-content-total',
  'Content Written': 'ostree-n-content-written',
  'Content Cache Hits': 'ostree-n-cache-hits',
  'Content Bytes Written': 'ostree-content-bytes-written',
};

function epochOf(args: StageArguments<Options>): number | undefined {
  const fromMeta = args.meta['source-epoch'];
  if (typeof fromMeta === 'number') return fromMeta;
  const fromEnv = process.env.SOURCE_DATE_EPOCH;
  return fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : undefined;
}

/** The commit a ref points to, or undefined when the repository has no such ref. */
function head(repo: string, ref: string): string | undefined {
  const refs = exec(['ostree', 'refs', `--repo=${repo}`], { capture: true }).split('\n');
  if (!refs.includes(ref)) return undefined;
  return exec(['ostree', 'rev-parse', `--repo=${repo}`, ref], { capture: true }).trim();
}

/** Whether the repository holds the commit object `commit`. */
function hasCommit(repo: string, commit: string): boolean {
  return existsSync(commitPath(repo, commit));
}

function commitPath(repo: string, commit: string): string {
  return join(repo, 'objects', commit.slice(0, 2), `${commit.slice(2)}.commit`);
}

/** The checksum of a commit's whole tree (contents and metadata), which ostree show prints. */
function contentChecksum(repo: string, commit: string): string | undefined {
  const shown = exec(['ostree', 'show', `--repo=${repo}`, commit], { capture: true });
  return /^ContentChecksum:\s+([0-9a-f]{64})/m.exec(shown)?.[1];
}

/** Whether commits into `repo` go through a working repository: it is an archive (`archive-z2` in its config). */
export function committedThroughWorkingRepo(repo: string): boolean {
  const mode = exec(['ostree', 'config', `--repo=${repo}`, 'get', 'core.mode'], { capture: true }).trim();
  return mode.startsWith('archive');
}

function hasKernel(tree: string): boolean {
  const modules = join(tree, 'usr/lib/modules');
  if (!existsSync(modules)) return false;
  return readdirSync(modules).some((v) => existsSync(join(modules, v, 'vmlinuz')));
}

export function main(args: StageArguments<Options>): { compose: Record<string, unknown> } {
  const o = args.options;
  const ref = o.ref ?? '';
  if (!/^[\w.-]+(\/[\w.-]+)*$/.test(ref)) throw new StageError(`invalid ref '${ref}'`);
  if (o.parent !== undefined && !/^[0-9a-f]{64}$/.test(o.parent)) {
    throw new StageError(`parent '${o.parent}' is not a commit checksum`);
  }
  let table = '';
  const input = args.inputs.tree?.path;
  if (!input || !existsSync(input)) throw new StageError('the input `tree` is missing');
  const repo = inRoot(args.tree, '/repo');
  if (!existsSync(join(repo, 'config'))) {
    throw new StageError('no OSTree repository at /repo: create it with org.osbuild.ostree.init first');
  }

  const before = head(repo, ref);
  // The commit an unchanged tree is compared with: the parent, else the head of the ref. Only one
  // in the repository can be compared (a parent from elsewhere is recorded, not read).
  const base = o.parent ?? before;
  const comparable = base !== undefined && hasCommit(repo, base);
  // An archive repository compresses every file while checksumming it, even one it has already:
  // the tree is committed to a bare-user working repository next to it (checksums only, no
  // compression), and only the objects the archive lacks are compressed into it (pull-local).
  const archive = committedThroughWorkingRepo(repo);
  const work = archive ? join(args.tree, '.ostree-commit-work') : repo;
  let commit: string | undefined;
  let skipped = false;
  try {
    if (archive) {
      rmSync(work, { recursive: true, force: true });
      exec(['ostree', 'init', '--mode=bare-user', `--repo=${work}`]);
      // A scratch repository, gone after the stage: nothing in it needs to reach the disk.
      exec(['ostree', 'config', `--repo=${work}`, 'set', 'core.fsync', 'false']);
    }
    const epoch = epochOf(args);
    const argv = [
      'ostree',
      'commit',
      `--repo=${work}`,
      `--branch=${ref}`,
      `--subject=${o.os_version ? `${ref} ${o.os_version}` : ref}`,
      `--add-metadata-string=rpmostree.inputhash=${args.meta.id}`,
      '--table-output',
    ];
    // In the working repository the base is compared below: it holds neither the ref nor the
    // base's tree, so the parent is named and ostree's own comparison is not asked for.
    if (comparable && !archive) argv.push('--skip-if-unchanged');
    if (o.os_version) argv.push(`--add-metadata-string=version=${o.os_version}`);
    if (o.parent) argv.push(`--parent=${o.parent}`);
    else if (archive && comparable) argv.push(`--parent=${base}`);
    if (epoch !== undefined) argv.push(`--timestamp=@${epoch}`);
    if (hasKernel(input)) argv.push('--bootable');
    argv.push(`--tree=dir=${input}`);
    table = exec(argv, { capture: true });
    const made = /^Commit:\s*([0-9a-f]{64})$/m.exec(table)?.[1];
    if (!made) throw new StageError('ostree commit printed no commit id');
    if (comparable && archive) {
      skipped = contentChecksum(work, made) === contentChecksum(repo, base);
    } else {
      skipped = comparable && made === base;
    }
    commit = skipped ? base : made;
    // After a skipped commit ostree prints no meaningful statistics: only the commit is shown.
    process.stdout.write(skipped ? `Commit: ${commit} (the tree of ${base} unchanged)\n` : table);
    if (archive && !skipped) exec(['ostree', 'pull-local', `--repo=${repo}`, work, ref]);
  } finally {
    if (archive) rmSync(work, { recursive: true, force: true });
  }
  if (!commit) throw new StageError('ostree commit printed no commit id');
  const fields = new Map(
    table
      .split('\n')
      .map((l) => /^([^:]+):\s*(.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1] as string, m[2] as string]),
  );
  // An unchanged tree compared with a parent keeps the parent; the ref then points to it.
  if (skipped && before !== commit) {
    exec(['ostree', 'refs', `--repo=${repo}`, '--force', `--create=${ref}`, commit]);
  }

  const shown = exec(['ostree', 'show', `--repo=${repo}`, commit], { capture: true });
  const date = /^Date:\s+(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)/m.exec(shown);
  const compose: Record<string, unknown> = {
    ref,
    'ostree-commit': commit,
    'rpm-ostree-inputhash': args.meta.id,
  };
  const content = /^ContentChecksum:\s+([0-9a-f]{64})/m.exec(shown)?.[1];
  if (content) compose['ostree-content-checksum'] = content;
  if (o.os_version) compose['ostree-version'] = o.os_version;
  if (date) {
    const when = new Date(`${date[1]}T${date[2]}${date[3]}:${date[4]}`);
    compose['ostree-timestamp'] = when.toISOString().replace(/\.000Z$/, 'Z');
  }
  // After a skipped commit ostree prints no meaningful statistics.
  if (!skipped) {
    for (const [label, key] of Object.entries(TABLE_KEYS)) {
      const value = fields.get(label);
      if (value && /^\d+$/.test(value)) compose[key] = Number(value);
    }
  }
  writeFileSync(inRoot(args.tree, '/compose.json'), `${JSON.stringify(compose, null, 2)}\n`);
  return { compose };
}
