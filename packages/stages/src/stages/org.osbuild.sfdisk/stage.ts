import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { exec } from '../../shared/exec.ts';
import type { options, partition } from './schema.ts';

type Options = z.input<typeof options>;
type Partition = z.input<typeof partition>;

/** The UEFI attribute bits sfdisk knows by name; 48–63 are written as numbers, others dropped. */
const NAMED_ATTRS: Record<number, string> = {
  0: 'RequiredPartition',
  1: 'NoBlockIOProtocol',
  2: 'LegacyBIOSBootable',
};

function devicePath(args: StageArguments<unknown>, name = 'device'): string {
  const path = args.devices?.[name]?.path;
  if (!path) throw new StageError(`no device named '${name}' was given to this stage`);
  return path;
}

function quoted(field: string, value: string): string {
  if (/["\n\r]/.test(value))
    throw new StageError(`partition ${field} ${JSON.stringify(value)} contains a quote`);
  return `${field}="${value}"`;
}

function partitionLine(device: string, p: Partition): string {
  const fields: string[] = [];
  if (p.start) fields.push(`start="${p.start}"`);
  if (p.size) fields.push(`size="${p.size}"`);
  if (p.type) fields.push(quoted('type', p.type));
  if (p.name) fields.push(quoted('name', p.name));
  if (p.uuid) fields.push(quoted('uuid', p.uuid));
  if (p.attrs && p.attrs.length > 0) {
    const attrs: string[] = [];
    for (const bit of p.attrs) {
      if (NAMED_ATTRS[bit]) attrs.push(NAMED_ATTRS[bit]);
      else if (bit >= 48 && bit <= 63) attrs.push(String(bit));
      else process.stderr.write(`warning: gpt attribute bit ${bit} is reserved, not set\n`);
    }
    if (attrs.length > 0) fields.push(`attrs="${attrs.join(',')}"`);
  }
  if (p.bootable) fields.push('bootable');
  const line = fields.join(', ');
  return p.partnum ? `${device}p${p.partnum}: ${line}` : line;
}

/** The sfdisk script for these options (exported for tests). */
export function sfdiskScript(device: string, opts: Options): string {
  if (/[\s"]/.test(opts.uuid))
    throw new StageError(`invalid partition table uuid ${JSON.stringify(opts.uuid)}`);
  const lines = [`label: ${opts.label === 'mbr' ? 'dos' : opts.label}`, `label-id: ${opts.uuid}`];
  for (const p of opts.partitions ?? []) lines.push(partitionLine(device, p));
  return `${lines.join('\n')}\n`;
}

export function main(args: StageArguments<Options>): void {
  const device = devicePath(args);
  const script = sfdiskScript(device, args.options);
  process.stdout.write(script);
  exec(['sfdisk', '--quiet', '--no-tell-kernel', device], { input: script });
  const table = exec(['sfdisk', '--json', device], { capture: true });
  process.stdout.write(table);
  const written = (JSON.parse(table) as { partitiontable: { partitions?: unknown[] } }).partitiontable;
  const want = args.options.partitions?.length ?? 0;
  if ((written.partitions?.length ?? 0) !== want) {
    throw new StageError(
      `sfdisk wrote ${written.partitions?.length ?? 0} partitions, ${want} were asked for`,
    );
  }
}
