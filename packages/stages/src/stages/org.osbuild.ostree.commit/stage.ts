import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../api/arguments.ts';
import { StageError } from '../../api/errors.ts';
import { exec } from '../../api/exec.ts';
import { inRoot } from '../../api/paths.ts';
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
  const input = args.inputs.tree?.path;
  if (!input || !existsSync(input)) throw new StageError('the input `tree` is missing');
  const repo = inRoot(args.tree, '/repo');
  if (!existsSync(join(repo, 'config'))) {
    throw new StageError('no OSTree repository at /repo: create it with org.osbuild.ostree.init first');
  }

  const before = head(repo, ref);
  const epoch = epochOf(args);
  const argv = [
    'ostree',
    'commit',
    `--repo=${repo}`,
    `--branch=${ref}`,
    `--subject=${o.os_version ? `${ref} ${o.os_version}` : ref}`,
    `--add-metadata-string=rpmostree.inputhash=${args.meta.id}`,
    '--skip-if-unchanged',
    '--generate-sizes',
    '--table-output',
  ];
  if (o.os_version) argv.push(`--add-metadata-string=version=${o.os_version}`);
  if (o.parent) argv.push(`--parent=${o.parent}`);
  if (epoch !== undefined) argv.push(`--timestamp=@${epoch}`);
  if (hasKernel(input)) argv.push('--bootable');
  argv.push(`--tree=dir=${input}`);
  const table = exec(argv, { capture: true });
  process.stdout.write(table);

  const fields = new Map(
    table
      .split('\n')
      .map((l) => /^([^:]+):\s*(.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1] as string, m[2] as string]),
  );
  const commit = fields.get('Commit');
  if (!commit || !/^[0-9a-f]{64}$/.test(commit)) throw new StageError('ostree commit printed no commit id');
  const skipped = commit === before || commit === o.parent;

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
