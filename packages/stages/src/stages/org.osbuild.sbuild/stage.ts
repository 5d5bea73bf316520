import {
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { upstreamVersion } from '../../shared/debian-version.ts';
import { StageError } from '../../shared/errors.ts';
import { attempt, exec, execStreamed } from '../../shared/exec.ts';
import { parseStanzas } from '../../shared/local-repo.ts';
import { inRoot } from '../../shared/paths.ts';
import { binaryOnlyEntry, binaryVersion, type ChangelogEntry, parseChangelogFields } from './changelog.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

/** The build user, as sbuild makes one in its chroot: not root, no capabilities. */
const USER = 'sbuild';
const UID = 1000;
/** Where the source is built: fixed, where sbuild 0.85 takes /build/<source>-XXXXXX at random. */
const BUILD_PATH = '/build/reproducible-path';
/** sbuild's default PATH for the build. */
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games';
/** Top-level directories of the environment the sandbox gives its own (or, /etc, a copy). */
const OWN = new Set(['dev', 'proc', 'sys', 'tmp', 'run', 'build', 'etc']);
/** How many of the log's last lines a failure quotes. */
const TAIL = 40;
/** Programs the build needs in the environment, and the package that brings each. */
const TOOLS: [string, string][] = [
  ['usr/bin/dpkg-buildpackage', 'dpkg-dev'],
  ['usr/bin/dpkg-checkbuilddeps', 'dpkg-dev'],
  ['usr/bin/dpkg-parsechangelog', 'dpkg-dev'],
  ['usr/bin/fakeroot', 'fakeroot'],
  ['usr/bin/setpriv', 'util-linux'],
];
const FILENAME = /^[A-Za-z0-9][A-Za-z0-9.+~_-]*$/;

interface Sandbox {
  /** The environment's tree (read-only). */
  env: string;
  /** The copy of its /etc with the build user. */
  etc: string;
  /** The directory that is /build. */
  build: string;
  vars: Record<string, string>;
}

/**
 * The nested sandbox a command of the build runs in, as sbuild's unshare mode makes it: the
 * environment as the root, fresh /dev, /proc, /tmp, /run, /var/tmp, /dev/shm, /build writable,
 * hostname sbuild, no network; the command as the build user, all capabilities dropped.
 */
function sandboxed(sb: Sandbox, cwd: string, command: string[]): string[] {
  const argv = [
    'bwrap',
    '--die-with-parent',
    '--new-session',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    'sbuild',
  ];
  for (const name of readdirSync(sb.env).sort()) {
    if (OWN.has(name)) continue;
    const path = join(sb.env, name);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) argv.push('--symlink', readlinkSync(path), `/${name}`);
    else if (st.isDirectory()) argv.push('--ro-bind', path, `/${name}`);
  }
  argv.push(
    ...['--ro-bind', sb.etc, '/etc'],
    ...['--dev', '/dev'],
    ...['--perms', '1777', '--tmpfs', '/dev/shm'],
    ...['--proc', '/proc'],
    ...['--ro-bind', '/sys', '/sys'],
    ...['--perms', '1777', '--tmpfs', '/tmp'],
    ...['--tmpfs', '/run'],
  );
  if (existsSync(join(sb.env, 'var/tmp'))) argv.push('--perms', '1777', '--tmpfs', '/var/tmp');
  argv.push(...['--bind', sb.build, '/build'], ...['--chdir', cwd], '--clearenv');
  for (const [k, v] of Object.entries(sb.vars)) argv.push('--setenv', k, v);
  argv.push(
    '--',
    'setpriv',
    `--reuid=${UID}`,
    `--regid=${UID}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
    ...command,
  );
  return argv;
}

/** Runs a short command in the sandbox; its output is returned, a failure is an error with its words. */
function query(sb: Sandbox, cwd: string, command: string[]): string {
  const r = attempt(sandboxed(sb, cwd, command));
  if (r.status !== 0) {
    throw new StageError(`${command.join(' ')} failed in the build environment:\n${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** The /etc of the sandbox: the environment's, with the build user and sbuild's hosts file. */
function sandboxEtc(env: string, work: string): string {
  const etc = join(work, 'etc');
  if (!existsSync(join(env, 'etc/passwd')))
    throw new StageError('the build environment has no /etc/passwd: is it a Debian system?');
  exec(['cp', '-a', join(env, 'etc'), etc]);
  for (const f of ['passwd', 'group', 'hosts', 'hostname', 'resolv.conf']) {
    rmSync(join(etc, f), { force: true, recursive: true });
  }
  writeFileSync(
    join(etc, 'passwd'),
    `${readFileSync(join(env, 'etc/passwd'), 'utf8')}${USER}:x:${UID}:${UID}:${USER}:/sbuild-nonexistent:/bin/sh\n`,
  );
  writeFileSync(join(etc, 'group'), `${readFileSync(join(env, 'etc/group'), 'utf8')}${USER}:x:${UID}:\n`);
  writeFileSync(join(etc, 'hosts'), '127.0.0.1 localhost\n127.0.1.1 sbuild\n');
  writeFileSync(join(etc, 'hostname'), 'sbuild\n');
  writeFileSync(join(etc, 'resolv.conf'), '');
  return etc;
}

/** The unpacked source in the input: `path`, or the only directory in its /build. */
function sourceDir(input: string, path: string | undefined): string {
  let dir: string;
  if (path !== undefined) {
    dir = inRoot(input, path);
  } else {
    const build = join(input, 'build');
    const dirs = existsSync(build)
      ? readdirSync(build).filter((n) => lstatSync(join(build, n)).isDirectory())
      : [];
    if (dirs.length !== 1) {
      throw new StageError(
        `the input 'source' has ${dirs.length} directories in /build; say which one holds the source with 'path'`,
      );
    }
    dir = join(build, dirs[0] as string);
  }
  if (!lstatSync(join(dir, 'debian/changelog'), { throwIfNoEntry: false })?.isFile()) {
    throw new StageError(
      `the input 'source' has no unpacked source at ${path ?? dir.slice(input.length)} (no debian/changelog)`,
    );
  }
  return dir;
}

/** The `.changes`'s Files field: the names of the files the build made. */
function changesFiles(text: string): string[] {
  const files = (parseStanzas(text)[0]?.Files ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter((n) => n !== '');
  for (const n of files) {
    if (!FILENAME.test(n)) throw new StageError(`the .changes lists a file named '${n}'`);
  }
  return files;
}

export interface BuiltPackage {
  name: string;
  version: string;
  arch: string;
  filename: string;
}

export interface SbuildMeta {
  source: string;
  version: string;
  packages: BuiltPackage[];
  files: string[];
}

function checkOptions(o: Options): void {
  if (o['arch-all'] === false && o['arch-any'] === false) {
    throw new StageError("nothing to build: 'arch-all' and 'arch-any' are both false");
  }
  if (o.binnmu !== undefined && o['binnmu-message'] === undefined) {
    throw new StageError("a binNMU ('binnmu') needs its reason ('binnmu-message')");
  }
  if (o['binnmu-message'] !== undefined && o.binnmu === undefined) {
    throw new StageError("'binnmu-message' without 'binnmu', the binNMU number");
  }
  if ((o.binnmu !== undefined || o['append-to-version'] !== undefined) && o.maintainer === undefined) {
    throw new StageError("a binNMU or version suffix needs the 'maintainer' of its changelog entry");
  }
}

/** Writes sbuild's binary-only changelog entry when asked for one; returns the top entry after it. */
function addBinaryOnlyEntry(
  o: Options,
  sb: Sandbox,
  unpacked: string,
  dir: string,
  top: ChangelogEntry,
  arch: string,
) {
  if (o.binnmu === undefined && o['append-to-version'] === undefined) return top;
  const file = inRoot(unpacked, 'debian/changelog');
  const entry = binaryOnlyEntry(top, {
    ...(o.binnmu !== undefined ? { binnmu: o.binnmu, message: o['binnmu-message'] as string } : {}),
    ...(o['append-to-version'] !== undefined ? { appendToVersion: o['append-to-version'] } : {}),
    maintainer: o.maintainer as string,
    distribution: o.distribution ?? top.distribution,
    timestamp: o['binnmu-timestamp'] ?? top.timestamp,
    arch,
  });
  writeFileSync(file, entry + readFileSync(file, 'utf8'));
  process.stdout.write(
    `changelog entry for the binary-only version ${binaryVersion(top.version, {
      binnmu: o.binnmu,
      appendToVersion: o['append-to-version'],
    })}:\n${entry}`,
  );
  return parseChangelogFields(query(sb, dir, ['dpkg-parsechangelog']));
}

export async function main(args: StageArguments<Options>): Promise<SbuildMeta> {
  const o = args.options;
  checkOptions(o);
  const env = args.inputs.environment?.path;
  const input = args.inputs.source?.path;
  if (!env) throw new StageError("the input 'environment' is missing");
  if (!input) throw new StageError("the input 'source' is missing");
  for (const [tool, pkg] of TOOLS) {
    if (!existsSync(inRoot(env, tool)))
      throw new StageError(`the build environment has no /${tool} (${pkg})`);
  }
  const source = sourceDir(input, o.path);
  mkdirSync('/var/tmp', { recursive: true });
  const work = mkdtempSync('/var/tmp/forge-sbuild-');
  try {
    const build = join(work, 'build');
    const parent = join(build, 'reproducible-path');
    mkdirSync(parent, { recursive: true });
    const sb: Sandbox = {
      env,
      etc: sandboxEtc(env, work),
      build,
      vars: { PATH, LC_ALL: 'C.UTF-8', SHELL: '/bin/sh', HOME: '/sbuild-nonexistent', USER, LOGNAME: USER },
    };
    // Copied under a provisional name: the directory is named after what debian/changelog says.
    exec(['cp', '-a', source, join(parent, 'source')]);
    exec(['chown', '-R', `${UID}:${UID}`, build]);
    let top = parseChangelogFields(query(sb, `${BUILD_PATH}/source`, ['dpkg-parsechangelog']));
    const name = `${top.source}-${upstreamVersion(top.version)}`;
    renameSync(join(parent, 'source'), join(parent, name));
    const dir = `${BUILD_PATH}/${name}`;
    const arch = query(sb, dir, ['dpkg', '--print-architecture']).trim();
    top = addBinaryOnlyEntry(o, sb, join(parent, name), dir, top, arch);
    exec(['chown', '-R', `${UID}:${UID}`, build]);
    // As sbuild: the build tree is not writable by others during the build.
    exec(['chmod', '-R', 'go-w', build]);

    const archAll = o['arch-all'] ?? true;
    const archAny = o['arch-any'] ?? true;
    const profiles = o.profiles ?? [];
    sb.vars.SOURCE_DATE_EPOCH = String(top.timestamp);
    if (o['build-options']?.length) sb.vars.DEB_BUILD_OPTIONS = o['build-options'].join(' ');
    if (profiles.length > 0) sb.vars.DEB_BUILD_PROFILES = profiles.join(' ');
    const profileArgs = profiles.length > 0 ? [`-P${profiles.join(',')}`] : [];
    const only = archAll && archAny ? [] : archAny ? ['-B'] : ['-A'];

    const deps = attempt(sandboxed(sb, dir, ['dpkg-checkbuilddeps', ...only, ...profileArgs]));
    if (deps.status !== 0) {
      const said = deps.stderr.replace(/^dpkg-checkbuilddeps: error: /gm, '').trim();
      throw new StageError(`${top.source} ${top.version} cannot be built in this environment: ${said}`);
    }

    const logFile = join(work, 'build.log');
    const log = openSync(logFile, 'w');
    const command = [
      'dpkg-buildpackage',
      '--sanitize-env',
      '-us',
      '-uc',
      ...profileArgs,
      archAll && archAny ? '-b' : (only[0] as string),
      '-rfakeroot',
    ];
    const header = [
      `${top.source} ${top.version} on ${arch}, in ${dir} as ${USER} (uid ${UID}), no network`,
      ...Object.entries(sb.vars).map(([k, v]) => `${k}=${v}`),
      `Command: ${command.join(' ')}`,
      '',
    ].join('\n');
    process.stdout.write(`${header}\n`);
    writeSync(log, `${header}\n`);
    let r: Awaited<ReturnType<typeof execStreamed>>;
    try {
      r = await execStreamed(sandboxed(sb, dir, command), log, TAIL);
    } finally {
      closeSync(log);
    }
    if (r.status !== 0) {
      const how = r.signal ? `signal ${r.signal}` : `exit status ${r.status}`;
      throw new StageError(
        `the build of ${top.source} ${top.version} failed (dpkg-buildpackage: ${how}); the log ends:\n${r.tail.join('\n')}`,
      );
    }

    const changes = readdirSync(parent).filter((n) => n.endsWith('.changes'));
    if (changes.length !== 1 || !FILENAME.test(changes[0] as string)) {
      throw new StageError(`the build left ${changes.length} .changes files, not one`);
    }
    const changesName = changes[0] as string;
    const files = [...changesFiles(readFileSync(join(parent, changesName), 'utf8')), changesName];
    for (const f of files) {
      const from = join(parent, f);
      if (!lstatSync(from, { throwIfNoEntry: false })?.isFile()) {
        throw new StageError(`the .changes lists ${f}, which the build did not leave`);
      }
      copyFileSync(from, join(args.tree, f));
    }
    const logName = changesName.replace(/\.changes$/, '.build');
    copyFileSync(logFile, join(args.tree, logName));
    const packages = files
      .filter((f) => /\.u?deb$/.test(f))
      .map((filename) => {
        const shown = exec(
          [
            'dpkg-deb',
            '--show',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-deb's own format fields
            '--showformat=${Package}\t${Version}\t${Architecture}',
            join(args.tree, filename),
          ],
          { capture: true },
        );
        const [pkg = '', version = '', debArch = ''] = shown.split('\t');
        return { name: pkg, version, arch: debArch, filename };
      });
    process.stdout.write(`built ${packages.map((p) => `${p.name} ${p.version} ${p.arch}`).join(', ')}\n`);
    return { source: top.source, version: top.version, packages, files: [...files, logName] };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
