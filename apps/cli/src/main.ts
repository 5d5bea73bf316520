/**
 * Entry point of the `forge` command: picks the verb, parses its flags from the verb's table, runs
 * it, and maps failures to OSBuild's exit codes (2 for an invalid manifest or bad usage). Library
 * errors carry a stable code; nothing here prints a stack trace for bad input.
 */
import { ManifestError, ManifestValidationError, pyDumps } from '@debian-forge/manifest';
import { type Command, helpText, type Io, parseCommandLine, UsageError } from './command.ts';
import { buildCommand } from './commands/build.ts';
import { composeCommand } from './commands/compose.ts';
import { inspectCommand } from './commands/inspect.ts';
import { manifestCommand } from './commands/manifest.ts';
import { validateCommand } from './commands/validate.ts';

const commands: Command[] = [buildCommand, composeCommand, inspectCommand, manifestCommand, validateCommand];

const VERSION = '0.1.0';

function overview(): string {
  const lines = [
    'usage: forge [--version] [--help] VERB [options] ...',
    '',
    'Debian Forge: build Debian images from OSBuild manifests and blueprints.',
    '',
    'verbs:',
    ...commands.map((c) => `  ${c.name.padEnd(12)}${c.summary.split('. ')[0]}`),
    '',
    "Run 'forge VERB --help' for a verb's arguments and options.",
  ];
  return `${lines.join('\n')}\n`;
}

export const processIo: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  },
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    const topic = verb === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(topic ? helpText(topic) : overview());
    return 0;
  }
  if (verb === '--version') {
    io.stdout.write(`forge ${VERSION}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.name === verb);
  if (!cmd) {
    io.stderr.write(`forge: unknown verb '${verb}'\n\n${overview()}`);
    return 2;
  }
  try {
    const parsed = parseCommandLine(cmd, rest);
    if (parsed.flags.help) {
      io.stdout.write(helpText(cmd));
      return 0;
    }
    return await cmd.run({ ...parsed, io });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`forge ${cmd.name}: ${err.message}\n\n${helpText(cmd)}`);
      return 2;
    }
    if (err instanceof ManifestValidationError) {
      io.stdout.write(`${pyDumps(err.result.toJSON())}\n`);
      return 2;
    }
    if (err instanceof ManifestError) {
      io.stderr.write(`forge ${cmd.name}: ${err.message} [${err.code}]\n`);
      return 2;
    }
    throw err;
  }
}
