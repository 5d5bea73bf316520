/**
 * One table per verb: each flag declared once with its type, its help text and its metavar, and
 * from that table come the argument parser (node:util parseArgs) and the `--help` text.
 */
import { parseArgs } from 'node:util';

export interface Flag {
  type: 'string' | 'boolean';
  help: string;
  short?: string;
  metavar?: string;
  multiple?: boolean;
}

export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** Whole standard input, for a MANIFEST of `-`. */
  readStdin(): Promise<Uint8Array>;
}

export interface CommandContext {
  positionals: string[];
  flags: Record<string, string | boolean | string[] | undefined>;
  io: Io;
}

export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, shown in the usage line. */
  args: { name: string; help: string }[];
  flags: Record<string, Flag>;
  /** Returns the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** Raised for bad command-line use; the CLI prints the usage and exits 2, as argparse does. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCommandLine(cmd: Command, argv: string[]): Omit<CommandContext, 'io'> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, f] of Object.entries(cmd.flags)) {
    options[name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { positionals, flags: values as CommandContext['flags'] };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function helpText(cmd: Command): string {
  const lines = [
    `usage: forge ${cmd.name} [options] ${cmd.args.map((a) => a.name).join(' ')}`.trimEnd(),
    '',
    cmd.summary,
    '',
  ];
  if (cmd.args.length > 0) {
    lines.push('arguments:');
    for (const a of cmd.args) lines.push(`  ${a.name.padEnd(28)}${a.help}`);
    lines.push('');
  }
  lines.push('options:');
  const rows: [string, string][] = [['-h, --help', 'show this help and exit']];
  for (const [name, f] of Object.entries(cmd.flags)) {
    const left = `${f.short ? `-${f.short}, ` : ''}--${name}${f.type === 'string' ? ` ${f.metavar ?? 'VALUE'}` : ''}`;
    rows.push([left, f.help + (f.multiple ? ' (repeatable)' : '')]);
  }
  for (const [left, help] of rows) lines.push(`  ${left.padEnd(28)}${help}`);
  return `${lines.join('\n')}\n`;
}
