/**
 * What `forge manifest` and `forge compose` share: read a blueprint, pick the distro and image type,
 * resolve packages with apt against the host's Debian mirror, and make the manifest.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AptError } from '@debian-forge/apt';
import { BlueprintError, cryptPasswords, parseBlueprint, parseDataSize } from '@debian-forge/blueprint';
import {
  aptResolver,
  type ComposePlan,
  ComposerError,
  ComposerErrorCode,
  type ComposeTargetResolved,
  DEFAULT_DISTRO,
  DISTROS,
  IMAGE_TYPES,
  planCompose as planComposeTarget,
  resolveComposeTarget,
} from '@debian-forge/composer';
import { type CommandContext, type Flag, UsageError } from './command.ts';

export const composeFlags: Record<string, Flag> = {
  type: {
    type: 'string',
    short: 't',
    metavar: 'TYPE',
    help: `image type: ${IMAGE_TYPES.map((t) => t.name).join(', ')}`,
  },
  distro: {
    type: 'string',
    metavar: 'DISTRO',
    help: `distribution: ${DISTROS.map((d) => d.name).join(', ')} (default: the blueprint's, else ${DEFAULT_DISTRO})`,
  },
  arch: { type: 'string', metavar: 'ARCH', help: 'architecture (default x86_64)' },
  size: { type: 'string', metavar: 'SIZE', help: "disk size: bytes or '8 GiB' (default: the image type's)" },
  'source-epoch': {
    type: 'string',
    metavar: 'SECONDS',
    help: 'SOURCE_DATE_EPOCH of the image (default: the date of the newest repository release file)',
  },
  ref: {
    type: 'string',
    metavar: 'REF',
    help: "OSTree types: the commit's branch (default debian/RELEASE/ARCH/atomic)",
  },
  parent: { type: 'string', metavar: 'COMMIT', help: 'OSTree types: the checksum of the parent commit' },
  url: {
    type: 'string',
    metavar: 'URL',
    help: 'OSTree types: the repository a deployed machine updates from',
  },
  'host-buildroot': {
    type: 'boolean',
    help: "no build pipeline: the stages run with the host's tools instead of the distro's pinned ones",
  },
  'state-dir': {
    type: 'string',
    metavar: 'DIR',
    help: 'apt roots and the object store (default $FORGE_STATE_DIR, else /var/lib/debian-forge as root, else ~/.cache/debian-forge)',
  },
};

export function stateDirOf(ctx: CommandContext): string {
  const flag = ctx.flags['state-dir'];
  if (typeof flag === 'string') return flag;
  if (process.env.FORGE_STATE_DIR) return process.env.FORGE_STATE_DIR;
  return process.getuid?.() === 0 ? '/var/lib/debian-forge' : join(homedir(), '.cache', 'debian-forge');
}

/** --source-epoch, checked; undefined without it. */
export function sourceEpochOf(ctx: CommandContext): number | undefined {
  const flag = ctx.flags['source-epoch'];
  if (typeof flag !== 'string') return undefined;
  const epoch = Number(flag);
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new UsageError(`--source-epoch takes whole seconds, not '${flag}'`);
  }
  return epoch;
}

/** A compose's target, resolved once, and its plan. */
export interface PlannedCompose {
  target: ComposeTargetResolved;
  plan: ComposePlan;
}

/** Checked before anything is resolved; bad requests are usage errors (exit 2). */
const USAGE_CODES: ReadonlySet<string> = new Set([
  ComposerErrorCode.ImageType,
  ComposerErrorCode.Distro,
  ComposerErrorCode.Arch,
  ComposerErrorCode.Size,
]);

export async function planCompose(ctx: CommandContext): Promise<PlannedCompose> {
  const [path, ...rest] = ctx.positionals;
  if (!path) throw new UsageError('the BLUEPRINT argument is missing (a .toml or .json file)');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const typeName = ctx.flags.type;
  if (typeof typeName !== 'string') throw new UsageError('--type is required');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
  const flag = (name: string) => (typeof ctx.flags[name] === 'string' ? ctx.flags[name] : undefined);
  let size: number | undefined;
  try {
    size = typeof ctx.flags.size === 'string' ? parseDataSize(ctx.flags.size) : undefined;
  } catch (err) {
    throw new UsageError(`--size: ${(err as Error).message}`);
  }
  const sourceEpoch = sourceEpochOf(ctx);
  const request = {
    // Validated as the API validates a pushed blueprint, and plain-text passwords hashed as it
    // hashes them, so the manifest it prints or builds holds none.
    blueprint: cryptPasswords(
      parseBlueprint(text, path.endsWith('.json') ? 'json' : path.endsWith('.toml') ? 'toml' : 'auto'),
    ),
    imageType: typeName,
    distro: flag('distro'),
    arch: flag('arch'),
    size,
    ostree: { ref: flag('ref'), parent: flag('parent'), url: flag('url') },
  };
  let resolved: ComposeTargetResolved;
  try {
    resolved = resolveComposeTarget(request);
  } catch (err) {
    if (err instanceof ComposerError && USAGE_CODES.has(err.code)) throw new UsageError(err.message);
    throw err;
  }
  const plan = await planComposeTarget(resolved, {
    resolver: aptResolver(stateDirOf(ctx)),
    sourceEpoch,
    hostBuildRoot: ctx.flags['host-buildroot'] === true,
  });
  return { target: resolved, plan };
}

/** Blueprint and apt errors as one line with their code; undefined for anything else. */
export function composeErrorMessage(err: unknown): string | undefined {
  if (err instanceof BlueprintError || err instanceof AptError || err instanceof ComposerError) {
    return `${err.message} [${err.code}]`;
  }
  return undefined;
}
