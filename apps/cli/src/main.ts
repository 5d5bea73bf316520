/**
 * Entry point of the `forge` command: picks the verb, parses its flags from the verb's table, runs
 * it, and maps failures to OSBuild's exit codes (2 for an invalid manifest or bad usage). Library
 * errors carry a stable code; nothing here prints a stack trace for bad input.
 */
import { ManifestError, ManifestValidationError, pyDumps } from '@debian-forge/manifest';
import { type Command, helpText, type Io, parseCommandLine, UsageError } from './command.ts';
import { validationText } from './manifest-input.ts';
import { VERSION } from './version.ts';

/**
 * The verbs, each loaded only when it runs: `forge inspect` need not load the engine, apt and the
 * composer, which keeps start-up short.
 */
const commands: { name: string; summary: string; load(): Promise<Command> }[] = [
  {
    name: 'build',
    summary: 'Build an OSBuild manifest, as `osbuild` does',
    load: async () => (await import('./commands/build.ts')).buildCommand,
  },
  {
    name: 'cockpit-page',
    summary: 'Install the web UI as a Cockpit page reaching the service over its unix socket',
    load: async () => (await import('./commands/cockpit-page.ts')).cockpitPageCommand,
  },
  {
    name: 'compose',
    summary: 'Build an image from a blueprint on this machine',
    load: async () => (await import('./commands/compose.ts')).composeCommand,
  },
  {
    name: 'inspect',
    summary: 'Print a manifest with the content id of every stage, as `osbuild --inspect` does',
    load: async () => (await import('./commands/inspect.ts')).inspectCommand,
  },
  {
    name: 'manifest',
    summary: 'Make the OSBuild manifest of a blueprint for a distro and image type',
    load: async () => (await import('./commands/manifest.ts')).manifestCommand,
  },
  {
    name: 'sbuild',
    summary: 'Build Debian binary packages from a source package, as sbuild does',
    load: async () => (await import('./commands/sbuild.ts')).sbuildCommand,
  },
  {
    name: 'serve',
    summary: 'Run the compose service: Weldr, Cloud and Forge APIs, Redis, SQLite and build workers',
    load: async () => (await import('./commands/serve.ts')).serveCommand,
  },
  {
    name: 'validate',
    summary: 'Check a manifest and report every error with its JSON path',
    load: async () => (await import('./commands/validate.ts')).validateCommand,
  },
  {
    name: 'worker',
    summary: 'Run a build worker alone (Redis and the API on other machines)',
    load: async () => (await import('./commands/worker.ts')).workerCommand,
  },
];

function overview(): string {
  const lines = [
    'usage: forge [--version] [--help] VERB [options] ...',
    '',
    'Debian Forge: build Debian images from OSBuild manifests and blueprints.',
    '',
    'verbs:',
    ...commands.map((c) => `  ${c.name.padEnd(14)}${c.summary}`),
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
    io.stdout.write(topic ? helpText(await topic.load()) : overview());
    return 0;
  }
  if (verb === '--version') {
    io.stdout.write(`forge ${VERSION}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === verb);
  if (!entry) {
    io.stderr.write(`forge: unknown verb '${verb}'\n\n${overview()}`);
    return 2;
  }
  const cmd = await entry.load();
  let parsed: ReturnType<typeof parseCommandLine> | undefined;
  try {
    parsed = parseCommandLine(cmd, rest);
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
      // As osbuild: JSON for --json and --inspect (and `inspect`), the readable form otherwise.
      const json = cmd.name === 'inspect' || parsed?.flags.json === true || parsed?.flags.inspect === true;
      io.stdout.write(
        json
          ? `${pyDumps(err.result.toJSON())}\n`
          : validationText(err.result, parsed?.positionals[0] ?? '-'),
      );
      return 2;
    }
    if (err instanceof ManifestError) {
      io.stderr.write(`forge ${cmd.name}: ${err.message} [${err.code}]\n`);
      return 2;
    }
    throw err;
  }
}
