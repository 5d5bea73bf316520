/**
 * `org.osbuild.curl`: files downloaded with curl (http, https, file, and whatever else curl
 * speaks), as OSBuild's `sources/org.osbuild.curl` does. An item is a URL string or
 * `{url, insecure?, secrets?: {name}}`. Failures are retried with backoff (OSBuild retries too:
 * mirrors fail now and then); an error names the URL and why (the HTTP status, curl's message, or
 * both checksums).
 */
import { existsSync } from 'node:fs';
import { machine } from 'node:os';
import { run } from '../exec.ts';
import { options, source } from '../module-schema.ts';
import {
  type FetchBatch,
  type FetchOne,
  removeQuietly,
  type SourceModule,
  temporaryName,
  verifyAndCommit,
  withRetries,
} from './common.ts';

const CURL_CONTENT_TYPE = 'org.osbuild.files';

interface CurlItem {
  url: string;
  insecure: boolean;
  secrets?: { name?: unknown };
}

function parseItem(desc: unknown): CurlItem | string {
  if (typeof desc === 'string') return { url: desc, insecure: false };
  if (desc && typeof desc === 'object' && typeof (desc as { url?: unknown }).url === 'string') {
    const d = desc as { url: string; insecure?: unknown; secrets?: { name?: unknown } };
    return { url: d.url, insecure: d.insecure === true, ...(d.secrets ? { secrets: d.secrets } : {}) };
  }
  return 'an item must be a URL or an object with a url';
}

const SAFE = /[A-Za-z0-9_.\-~/]/;

/** Python's `urllib.parse.quote(path)` (safe: letters, digits, `_.-~/`), byte by byte in UTF-8. */
function quotePath(path: string): string {
  let out = '';
  for (const ch of path) {
    if (SAFE.test(ch)) out += ch;
    else
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const USES_PARAMS = new Set([
  '',
  'http',
  'https',
  'ftp',
  'sftp',
  'rtsp',
  'sip',
  'sips',
  'tel',
  'mms',
  'imap',
  'shttp',
  'hdl',
  'prospero',
  'rtspu',
]);

/** OSBuild quotes the path of every URL before handing it to curl (`_quote_url`); so do we. */
export function quoteUrl(url: string): string {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(\/\/[^/?#]*)?([^?#]*)(.*)$/s.exec(url);
  if (!m) return url;
  const [, scheme = '', netloc = '', rawPath = '', rest = ''] = m;
  let path = rawPath;
  let params = '';
  if (USES_PARAMS.has(scheme.toLowerCase())) {
    const semicolon = path.indexOf(';', path.lastIndexOf('/') + 1);
    if (semicolon >= 0) {
      params = path.slice(semicolon);
      path = path.slice(0, semicolon);
    }
  }
  return `${scheme ? `${scheme}:` : ''}${netloc}${quotePath(path)}${params}${rest}`;
}

function secretArgs(item: CurlItem): string[] | string {
  const name = item.secrets?.name;
  if (item.secrets === undefined) return [];
  if (name === 'org.osbuild.mtls') {
    const key = process.env.OSBUILD_SOURCES_CURL_SSL_CLIENT_KEY;
    const cert = process.env.OSBUILD_SOURCES_CURL_SSL_CLIENT_CERT;
    const ca = process.env.OSBUILD_SOURCES_CURL_SSL_CA_CERT;
    if (!key || !cert) {
      return 'mtls secrets required but OSBUILD_SOURCES_CURL_SSL_CLIENT_KEY or OSBUILD_SOURCES_CURL_SSL_CLIENT_CERT is not set';
    }
    return [...(ca ? ['--cacert', ca] : []), '--cert', cert, '--key', key];
  }
  if (name === 'org.osbuild.rhsm')
    return 'the secrets provider org.osbuild.rhsm (Red Hat subscriptions) is not supported';
  return `unknown secrets provider ${String(name)}`;
}

const ALL_EXIT_CODES = Array.from({ length: 255 }, (_, i) => i + 1);

/** The options every download gets: errors as exit codes, redirects, timeouts, the proxy. */
function commonArgs(insecure: boolean): string[] {
  const proxy = process.env.OSBUILD_SOURCES_CURL_PROXY;
  return [
    '--silent',
    '--show-error',
    '--fail',
    '--location',
    '--globoff',
    '--connect-timeout',
    '30',
    '--speed-limit',
    '1000',
    '--speed-time',
    '30',
    '--user-agent',
    `debian-forge (Linux.${machine()})`,
    ...(proxy ? ['--proxy', proxy] : []),
    ...(insecure ? ['--insecure'] : []),
  ];
}

const fetchCurl: FetchOne = async (checksum, desc, ctx) => {
  const item = parseItem(desc);
  if (typeof item === 'string') return item;
  const secrets = secretArgs(item);
  if (typeof secrets === 'string') return `${item.url}: ${secrets}`;
  const url = quoteUrl(item.url);
  return withRetries(ctx.attempts, ctx.backoffMs, async () => {
    const tmp = temporaryName(ctx.dir, checksum);
    try {
      const r = await run(
        [
          'curl',
          ...commonArgs(item.insecure),
          ...secrets,
          '--write-out',
          '%{http_code}',
          '--output',
          tmp,
          '--url',
          url,
        ],
        { okCodes: ALL_EXIT_CODES },
      );
      if (r.exitCode !== 0) {
        const status = Number.parseInt(r.stdout.trim(), 10);
        const message = r.stderr.trim().replace(/^curl: \((\d+)\) /, 'curl error $1: ');
        const why =
          status > 0 && r.exitCode === 22
            ? `HTTP status ${status}`
            : message || `curl exit status ${r.exitCode}`;
        return `cannot download ${item.url}: ${why}`;
      }
      return await verifyAndCommit(tmp, ctx.dir, checksum, item.url);
    } finally {
      removeQuietly(tmp);
    }
  });
};

/** A string in a curl config file: double-quoted, with backslash escapes. */
function configString(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/**
 * Downloads the plain items (no secrets, not insecure) with one curl that runs up to `parallel`
 * transfers at once and reuses its connections, instead of a curl per file: for the hundred small
 * files of a Debian system, starting a process and a connection per file took 8 s where one curl
 * takes under 1 s. Each file is verified and renamed into place as fetchCurl does; what failed is
 * left for fetchCurl, which retries and says why. Resolves with the checksums now stored.
 */
const fetchCurlBatch: FetchBatch = async (items, ctx, parallel) => {
  const plain: { checksum: string; url: string; tmp: string }[] = [];
  for (const [checksum, desc] of items) {
    const item = parseItem(desc);
    if (typeof item === 'string' || item.insecure || item.secrets !== undefined) continue;
    plain.push({ checksum, url: item.url, tmp: temporaryName(ctx.dir, checksum) });
  }
  const stored = new Set<string>();
  if (plain.length < 2) return stored;
  const config = plain
    .map((p) => `url = ${configString(quoteUrl(p.url))}\noutput = ${configString(p.tmp)}\n`)
    .join('');
  try {
    await run(
      ['curl', ...commonArgs(false), '--parallel', '--parallel-max', String(parallel), '--config', '-'],
      { input: config, okCodes: ALL_EXIT_CODES },
    );
    for (const p of plain) {
      if (!existsSync(p.tmp)) continue;
      if ((await verifyAndCommit(p.tmp, ctx.dir, p.checksum, p.url)) === undefined) stored.add(p.checksum);
    }
  } finally {
    for (const p of plain) removeQuietly(p.tmp);
  }
  return stored;
};

export default {
  type: 'org.osbuild.curl',
  schema: source({
    oneOf: [
      { type: 'string' },
      options(
        {
          url: { type: 'string' },
          insecure: { type: 'boolean' },
          secrets: options({ name: { type: 'string' } }, ['name']),
        },
        ['url'],
      ),
    ],
  }),
  contentType: CURL_CONTENT_TYPE,
  fetchOne: fetchCurl,
  fetchBatch: fetchCurlBatch,
} satisfies SourceModule;
