/**
 * Runs one stage in bubblewrap with OSBuild's sandbox (`osbuild/buildroot.py`): no network, new
 * pid/ipc namespaces and session, dies with the engine, capabilities dropped to OSBuild's default
 * set plus the stage's own, read-only `/usr` from the build root (the host or a build pipeline's
 * tree), OSBuild's /dev (a host tmpfs where device nodes open), a writable `/etc` of the stage's
 * own, the tree, the arguments file, the meta file, inputs and mounts at OSBuild's paths, the API
 * sockets, and the runner that executes the stage.
 *
 * One difference on purpose: capabilities missing from this process's bounding set are left out
 * of `--cap-add`. bwrap 0.8 otherwise keeps *all* capabilities when asked to add one it cannot
 * (see OSBUILD-CONTRACT.md, "Capability quirk"), which would silently disable the drop.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { start } from './exec.ts';

export const DEFAULT_CAPABILITIES = [
  'CAP_AUDIT_WRITE',
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_IPC_LOCK',
  'CAP_LINUX_IMMUTABLE',
  'CAP_MAC_OVERRIDE',
  'CAP_MKNOD',
  'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_ADMIN',
  'CAP_SYS_CHROOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
];

/** Capability numbers from linux/capability.h. */
const CAPABILITY_BITS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** The capabilities this process may pass on (its bounding set), read from /proc/self/status. */
export function boundingSet(status = readFileSync('/proc/self/status', 'utf8')): Set<string> {
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  const bits = BigInt(`0x${hex}`);
  return new Set(
    Object.entries(CAPABILITY_BITS)
      .filter(([, bit]) => (bits >> BigInt(bit)) & 1n)
      .map(([name]) => name),
  );
}

/** Sorted `DEFAULT_CAPABILITIES ∪ extra`, restricted to what the bounding set allows. */
export function stageCapabilities(extra: string[], bounding: Set<string>): string[] {
  return [...new Set([...DEFAULT_CAPABILITIES, ...extra])].filter((c) => bounding.has(c)).sort();
}

export interface SandboxSpec {
  /** Root of the build root: `/` for the host, else a build pipeline's tree. */
  buildRoot: string;
  /** Whether the build root is a build pipeline (then its /boot is bound too). */
  fromBuildPipeline: boolean;
  /** The libdir the stage is taken from, bound as /run/osbuild/lib. */
  libdir: string;
  stageType: string;
  runner: string;
  /** The libdir whose `runners/` holds the runner. */
  runnerLibdir: string;
  tree: string;
  metaFile: string;
  argumentsFile: string;
  inputsDir: string;
  mountsDir: string;
  /** Writable directory bound as /var. */
  varDir: string;
  /**
   * Writable directory bound as /etc (OSBuild's is an empty directory of the sandbox): it holds a
   * copy of the build root's library cache, so forge's runners need not rebuild it, while
   * OSBuild's runners, which run `ldconfig` anyway, can replace it.
   */
  etcDir: string;
  /** File with the kernel command line shown as /proc/cmdline. */
  cmdlineFile: string;
  capabilities: string[];
  /** The stage's /dev (dev-dir.ts), where its device nodes are made. */
  devDir: string;
  /** More read-only binds (source on the host → path in the sandbox), applied last. */
  roBinds: [string, string][];
  /** The API sockets (host socket → `/run/osbuild/api/<endpoint>`). */
  apiBinds: [string, string][];
}

/** The bwrap command line for a stage, in OSBuild's order: one option with its values per row. */
export function bwrapArgv(s: SandboxSpec): string[] {
  const root = s.buildRoot === '/' ? '' : s.buildRoot;
  const rows: string[][] = [
    ['bwrap'],
    ['--chdir', '/'],
    ['--die-with-parent'],
    ['--new-session'],
    ['--unshare-ipc'],
    ['--unshare-pid'],
    ['--unshare-net'],
    ['--cap-drop', 'ALL'],
    ...s.capabilities.map((cap) => ['--cap-add', cap]),
  ];
  if (s.fromBuildPipeline) rows.push(['--ro-bind', `${root}/boot`, '/boot']);
  rows.push(
    ['--ro-bind', `${root}/usr`, '/usr'],
    ['--symlink', 'usr/lib', '/lib'],
    ['--symlink', 'usr/lib64', '/lib64'],
    ['--symlink', 'usr/bin', '/bin'],
    ['--symlink', 'usr/sbin', '/sbin'],
    ['--dev-bind', s.devDir, '/dev'],
    ['--tmpfs', '/dev/shm'],
    ['--bind', s.etcDir, '/etc'],
    ['--tmpfs', '/run'],
    ['--tmpfs', '/tmp'],
    ['--bind', s.varDir, '/var'],
    ['--proc', '/proc'],
    ['--ro-bind', '/sys', '/sys'],
    ['--ro-bind-try', '/sys/fs/selinux', '/sys/fs/selinux'],
  );
  if (s.fromBuildPipeline) {
    rows.push(
      ['--ro-bind-try', `${root}/etc/mke2fs.conf`, '/etc/mke2fs.conf'],
      ['--ro-bind-try', `${root}/etc/containers`, '/etc/containers'],
      ['--ro-bind-try', `${root}/ostree`, '/ostree'],
      ['--ro-bind-try', `${root}/etc/selinux/`, '/etc/selinux/'],
    );
  }
  rows.push(
    ['--ro-bind', s.libdir, '/run/osbuild/lib'],
    ['--ro-bind', s.cmdlineFile, '/proc/cmdline'],
    ['--bind', s.tree, '/run/osbuild/tree'],
    ['--bind', s.metaFile, '/run/osbuild/meta'],
    ['--bind', s.mountsDir, '/run/osbuild/mounts'],
    ['--ro-bind', join(s.libdir, 'stages', s.stageType), `/run/osbuild/bin/${s.stageType}`],
    ['--ro-bind', s.inputsDir, '/run/osbuild/inputs'],
    ['--ro-bind', s.argumentsFile, '/run/osbuild/api/arguments'],
    ...s.apiBinds.map(([src, dst]) => ['--bind', src, dst]),
    ['--ro-bind', join(s.runnerLibdir, 'runners', s.runner), `/run/osbuild/runner/${s.runner}`],
    ...s.roBinds.map(([src, dst]) => ['--ro-bind', src, dst]),
    ['--', `/run/osbuild/runner/${s.runner}`, `/run/osbuild/bin/${s.stageType}`],
  );
  return rows.flat();
}

export interface StageProcessResult {
  exitCode: number;
  output: string;
  timedOut: boolean;
}

/** Runs the sandboxed stage; output (stdout and stderr merged) is streamed to `onOutput`. */
export async function runSandboxed(
  spec: SandboxSpec,
  env: Record<string, string>,
  opts: { timeoutSeconds?: number; onOutput(chunk: string): void },
): Promise<StageProcessResult> {
  let output = '';
  let timedOut = false;
  const { child, done } = start(bwrapArgv(spec), { env }, (chunk) => {
    output += chunk;
    opts.onOutput(chunk);
  });
  const timer =
    opts.timeoutSeconds !== undefined
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutSeconds * 1000)
      : undefined;
  try {
    const { exitCode, signal } = await done;
    if (timedOut) {
      const note = `stage timed out after ${opts.timeoutSeconds} s and was killed\n`;
      output += note;
      opts.onOutput(note);
    }
    return { exitCode: exitCode ?? 128 + signalNumber(signal ?? undefined), output, timedOut };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function signalNumber(signal: string | undefined): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1;
}
