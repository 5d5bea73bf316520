/**
 * `org.osbuild.ostree`: commits pulled from OSTree repositories into one archive repository, the
 * source cache `<sources>/org.osbuild.ostree/repo` (OSBuild's `sources/org.osbuild.ostree`). An
 * item is keyed by the commit checksum: `{remote: {url, contenturl?, gpgkeys?, secrets?}}`. Each
 * pull goes through a remote of its own that exists only while it runs: with `gpgkeys` (armored
 * public keys) the commit's signature must verify against them, without them nothing is verified.
 * `ostree pull` speaks http, https and file. A commit counts as fetched when the cache holds it
 * whole (no `.commitpartial` state); otherwise the item fails naming the commit and the URL.
 *
 * As OSBuild: `OSBUILD_SOURCES_OSTREE_INSECURE=true` skips TLS verification,
 * `OSBUILD_SOURCES_OSTREE_PROXY` sets a proxy, and the secrets provider `org.osbuild.mtls` takes
 * the client key, certificate and CA from `OSBUILD_SOURCES_OSTREE_SSL_CLIENT_KEY`, `…_CLIENT_CERT`
 * and `…_CA_CERT`.
 *
 * Builds sharing a store share the repository. `ostree remote add|delete` and `ostree config`
 * rewrite its whole config file from what they read, so two at once lose one's change (a remote
 * gone before its pull): each such change holds `config.lock` beside the repository.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, EngineErrorCode } from '../errors.ts';
import { run } from '../exec.ts';
import { lock } from '../lock.ts';
import { options } from '../module-schema.ts';
import { type FetchOne, type SourceModule, withRetries } from './common.ts';

const OSTREE_CONTENT_TYPE = 'org.osbuild.ostree';

/** Item keys this fetcher can pull: whole commit checksums. */
const COMMIT = /^[0-9a-f]{64}$/;

interface Remote {
  url: string;
  contenturl?: string;
  gpgkeys: string[];
  secrets?: string;
}

function parseItem(desc: unknown): Remote | string {
  const remote = (desc as { remote?: unknown } | null)?.remote as Record<string, unknown> | undefined;
  if (!remote || typeof remote !== 'object' || typeof remote.url !== 'string')
    return 'an item must be an object with remote.url';
  const gpgkeys = Array.isArray(remote.gpgkeys) ? remote.gpgkeys.map(String) : [];
  const secrets = (remote.secrets as { name?: unknown } | undefined)?.name;
  return {
    url: remote.url,
    ...(typeof remote.contenturl === 'string' ? { contenturl: remote.contenturl } : {}),
    gpgkeys,
    ...(secrets !== undefined ? { secrets: String(secrets) } : {}),
  };
}

/** `--set=` options of the remote for the secrets provider and the environment. */
function remoteSettings(remote: Remote): string[] {
  const set: string[] = [];
  if (remote.secrets === 'org.osbuild.mtls') {
    const key = process.env.OSBUILD_SOURCES_OSTREE_SSL_CLIENT_KEY;
    const cert = process.env.OSBUILD_SOURCES_OSTREE_SSL_CLIENT_CERT;
    const ca = process.env.OSBUILD_SOURCES_OSTREE_SSL_CA_CERT;
    if (!key || !cert)
      throw new EngineError(
        EngineErrorCode.Source,
        'mtls secrets required but OSBUILD_SOURCES_OSTREE_SSL_CLIENT_KEY or OSBUILD_SOURCES_OSTREE_SSL_CLIENT_CERT is not set',
      );
    if (ca) set.push(`tls-ca-path=${ca}`);
    set.push(`tls-client-cert-path=${cert}`, `tls-client-key-path=${key}`);
  } else if (remote.secrets !== undefined) {
    throw new EngineError(EngineErrorCode.Source, `unsupported secrets provider ${remote.secrets}`);
  }
  const proxy = process.env.OSBUILD_SOURCES_OSTREE_PROXY;
  if (proxy) set.push(`proxy=${proxy}`);
  if (process.env.OSBUILD_SOURCES_OSTREE_INSECURE?.toLowerCase() === 'true') set.push('tls-permissive=true');
  return set.map((s) => `--set=${s}`);
}

/** Creates the archive repository of the source cache if it is not there yet. */
async function initOstreeCache(dir: string): Promise<void> {
  const repo = join(dir, 'repo');
  await changingConfig(dir, async () => {
    if (!existsSync(join(repo, 'config'))) await run(['ostree', 'init', '--mode=archive', `--repo=${repo}`]);
    await run(['ostree', 'config', `--repo=${repo}`, 'set', 'repo.locking', 'true']);
  });
}

/** Runs `change` of the repository's config while no other build sharing the store changes it. */
async function changingConfig<T>(dir: string, change: () => Promise<T>): Promise<T> {
  const held = await lock(join(dir, 'config.lock'), 'exclusive');
  try {
    return await change();
  } finally {
    await held.release();
  }
}

/** Whether the cache holds the whole commit (a pull that was cut leaves it partial). */
async function hasCommit(dir: string, commit: string): Promise<boolean> {
  const repo = join(dir, 'repo');
  if (existsSync(join(repo, 'state', `${commit}.commitpartial`))) return false;
  const r = await run(['ostree', 'show', `--repo=${repo}`, commit], { okCodes: [1] });
  return r.exitCode === 0;
}

const fetchOstree: FetchOne = async (commit, desc, ctx) => {
  if (!COMMIT.test(commit)) return `'${commit}' is not a commit checksum (64 hex digits)`;
  const remote = parseItem(desc);
  if (typeof remote === 'string') return remote;
  const repo = join(ctx.dir, 'repo');
  const name = `forge-${randomBytes(8).toString('hex')}`;
  await changingConfig(ctx.dir, () =>
    run([
      'ostree',
      'remote',
      'add',
      `--repo=${repo}`,
      ...(remote.gpgkeys.length === 0 ? ['--no-gpg-verify'] : []),
      ...(remote.contenturl ? [`--contenturl=${remote.contenturl}`] : []),
      ...remoteSettings(remote),
      name,
      remote.url,
    ]),
  );
  try {
    for (const key of remote.gpgkeys) {
      await run(['ostree', 'remote', 'gpg-import', `--repo=${repo}`, '--stdin', name], { input: key });
    }
    const error = await withRetries(ctx.attempts, ctx.backoffMs, async () => {
      try {
        await run(['ostree', 'pull', `--repo=${repo}`, name, commit]);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    });
    if (error !== undefined || !(await hasCommit(ctx.dir, commit))) {
      throw new EngineError(
        EngineErrorCode.Source,
        `commit ${commit} could not be pulled from ${remote.url}${error ? `: ${error}` : ''}`,
      );
    }
    return undefined;
  } finally {
    await changingConfig(ctx.dir, () => run(['ostree', 'remote', 'delete', `--repo=${repo}`, name]));
  }
};

export default {
  type: 'org.osbuild.ostree',
  // OSBuild's item pattern is unanchored; the fetcher itself takes whole commit checksums only.
  schema: {
    additionalProperties: false,
    required: ['items'],
    properties: {
      items: {
        type: 'object',
        additionalProperties: false,
        patternProperties: {
          '[0-9a-f]{5,64}': options(
            {
              remote: options(
                {
                  url: { type: 'string' },
                  contenturl: { type: 'string' },
                  gpgkeys: { type: 'array', items: { type: 'string' } },
                  secrets: options({ name: { type: 'string' } }, ['name']),
                },
                ['url'],
              ),
            },
            ['remote'],
          ),
        },
      },
      options: { type: 'object' },
    },
  },
  contentType: OSTREE_CONTENT_TYPE,
  fetchOne: fetchOstree,
  key: COMMIT,
  has: hasCommit,
  prepare: initOstreeCache,
  // One pull at a time: each adds and deletes a remote in the one repository's config.
  parallel: 1,
} satisfies SourceModule;
