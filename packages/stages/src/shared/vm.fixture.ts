/**
 * Boots a disk image in QEMU for tests and talks to it over its serial console.
 *
 * ```ts
 * const vm = await bootImage({ image: 'disk.qcow2', format: 'qcow2', firmware: 'uefi' });
 * if ('skipped' in vm) return t.skip(vm.skipped);
 * try {
 *   await vm.login('root', 'secret');
 *   const { output, exitCode } = await vm.run('cat /proc/cmdline');
 * } finally {
 *   await vm.shutdown();
 * }
 * ```
 *
 * The machine runs `qemu-system-x86_64 -nographic` with KVM when KVM is usable (see
 * `kvmUnusable`), else with TCG (the first boot of a test process prints which and why), with
 * `-snapshot`, so the image is never modified (changes last until QEMU ends), no network unless
 * asked for (`network: true`: QEMU's user-mode network, where the guest reaches the host's loopback
 * at 10.0.2.2) and the first serial port on QEMU's standard input and output. UEFI uses OVMF (Debian
 * package ovmf) with a private copy of its variable store. Everything the console prints is
 * appended to `vm.logFile`. QEMU is killed by `shutdown()`, and in any case when the test process
 * exits. A reboot of the guest ends QEMU (`-no-reboot`).
 *
 * A machine that must keep its disk across power cycles (an update that takes effect at the next
 * boot) boots a writable `overlay()` of the image with `snapshot: false`, is stopped with
 * `poweroff()`, and is booted again on the same overlay: a new QEMU is faster and steadier under
 * TCG than a warm reset of the firmware, which took from 70 s to over 300 s here.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export interface BootOptions {
  image: string;
  format: 'qcow2' | 'raw';
  firmware: 'bios' | 'uefi';
  /** Guest memory; default 1024 MiB. */
  memoryMiB?: number;
  /** Default timeout of `waitFor`, `login` and `run`, in seconds; default 300. */
  timeoutSeconds?: number;
  /**
   * Where the console log goes; default `<tmpdir>/forge-vm-logs/<name>.log`, replaced by the next
   * boot of the same name (so logs do not pile up, and the last one is there to read).
   */
  logFile?: string;
  /** Name of the default log file; default the image's file name and the firmware. */
  name?: string;
  /** Virtual CPUs; default 2. */
  cpus?: number;
  /** More QEMU arguments. */
  extraArgs?: string[];
  /** `kvm`, `tcg`, or `auto` (the default): KVM when /dev/kvm can be opened, else TCG. */
  accel?: 'auto' | 'kvm' | 'tcg';
  /** A virtio network card on QEMU's user-mode network (the host is 10.0.2.2); default none. */
  network?: boolean;
  /**
   * Run on a throw-away snapshot of the image (the default), or write to the image itself (`false`,
   * for an `overlay()`).
   */
  snapshot?: boolean;
}

export interface RunResult {
  /** What the command printed (standard output and error), with `\n` line ends. */
  output: string;
  exitCode: number;
}

export interface Vm {
  /** File with everything the console printed. */
  logFile: string;
  /** `Date.now()` when QEMU started. */
  startedAt: number;
  /** The whole console output so far (`\r\n` turned into `\n`). */
  console(): string;
  /** Sends text to the serial console as typed. */
  send(text: string): void;
  /**
   * Waits until console output not matched before matches `pattern`, then returns the match; later
   * waits look only after it. Rejects on timeout or when QEMU exits, quoting the console's tail.
   * Output is matched as it arrives, possibly in the middle of a line: end a pattern that captures
   * with something definite, such as `\n`.
   */
  waitFor(pattern: RegExp, timeoutSeconds?: number): Promise<RegExpExecArray>;
  /**
   * Waits for the getty's login prompt, logs in and prepares the shell for `run`. Resolves with the
   * seconds from QEMU's start to the login prompt.
   */
  login(user: string, password: string, timeoutSeconds?: number): Promise<{ promptSeconds: number }>;
  /**
   * Runs a one-line shell command in the logged-in shell; resolves with what it printed and the exit
   * status of its last command (wrap it in `( … )` for the status of the whole line).
   */
  run(command: string, timeoutSeconds?: number): Promise<RunResult>;
  /**
   * Powers the logged-in guest off (as root) and waits until QEMU exits by itself; rejects when it
   * does not within the timeout (default 300 s), so a disk written by the guest is only used again
   * after an orderly shutdown. Resolves with the seconds it took.
   */
  poweroff(timeoutSeconds?: number): Promise<{ seconds: number }>;
  /**
   * Kills QEMU and waits until it has gone (a snapshot has nothing to keep; a machine on an
   * overlay that will boot again is stopped with `poweroff()` first).
   */
  shutdown(): Promise<void>;
  /** Kills QEMU at once. */
  kill(): void;
}

export interface VmSkipped {
  skipped: string;
}

/**
 * Makes `<dir>/<name>`, a qcow2 overlay backed by `image` (which stays as it is), for a machine
 * booted with `snapshot: false`; returns its path.
 */
export function overlay(image: string, format: 'qcow2' | 'raw', dir: string, name = 'overlay.qcow2'): string {
  const path = join(dir, name);
  const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', format, path], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`qemu-img create failed: ${r.stderr || r.error?.message}`);
  return path;
}

/** Firmware files of the ovmf package: code and variable-store template, as pairs. */
const OVMF_PAIRS: [string, string][] = [
  ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd'],
  ['/usr/share/OVMF/OVMF_CODE.fd', '/usr/share/OVMF/OVMF_VARS.fd'],
];

const QEMU = 'qemu-system-x86_64';

/** Why a VM with this firmware cannot boot here, or undefined when it can. */
export function vmUnavailable(firmware: 'bios' | 'uefi' = 'bios'): string | undefined {
  if (spawnSync(QEMU, ['--version']).error)
    return `${QEMU} is not installed (Debian package qemu-system-x86)`;
  if (firmware === 'uefi' && !ovmfPair()) return 'OVMF is not installed (Debian package ovmf)';
  return undefined;
}

function ovmfPair(): [string, string] | undefined {
  return OVMF_PAIRS.find(([code, vars]) => existsSync(code) && existsSync(vars));
}

const running = new Set<ChildProcess>();
const killAll = () => {
  for (const child of running) child.kill('SIGKILL');
};
let hooked = false;
/** Kills every QEMU still running when this process exits or is told to stop. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // Then die of the signal as if nobody had been listening.
      process.kill(process.pid, signal);
    });
  }
}

let kvmChecked: string | undefined;

/**
 * Why KVM cannot be used here, or undefined when it can: /dev/kvm must open, and QEMU must start a
 * paused machine with KVM and QEMU's baseline CPU (qemu64) without a word on standard error. A
 * nested KVM that lacks features of that CPU (seen in microVMs: "host doesn't support requested
 * feature: CPUID.01H:ECX.pni") opens and starts, but its guests hang or die, so it counts as unusable.
 */
export function kvmUnusable(): string | undefined {
  if (kvmChecked !== undefined) return kvmChecked || undefined;
  kvmChecked = '';
  try {
    closeSync(openSync('/dev/kvm', constants.O_RDWR));
  } catch (err) {
    kvmChecked = `/dev/kvm: ${(err as NodeJS.ErrnoException).code}`;
    return kvmChecked;
  }
  // biome-ignore format: QEMU options and their arguments in pairs
  const probe = spawnSync(QEMU, [
    '-accel', 'kvm', '-cpu', 'qemu64', '-machine', 'pc', '-S', '-nodefaults',
    '-display', 'none', '-monitor', 'none', '-serial', 'none', '-nic', 'none',
  ], { timeout: 3000, encoding: 'utf8' });
  const said = probe.stderr.split('\n').filter((l) => l && !/terminating on signal/.test(l));
  if (said.length > 0) kvmChecked = `QEMU with KVM says: ${said.join('; ')}`;
  else if (probe.signal === null) kvmChecked = `QEMU with KVM ended at once (exit status ${probe.status})`;
  return kvmChecked || undefined;
}

let accelReported = false;

/** The QEMU command line for `options` (exported for tests and for reading). */
export function qemuArgv(options: BootOptions, varsFile?: string): string[] {
  const accel = options.accel ?? 'auto';
  const kvm = accel === 'kvm' || (accel === 'auto' && kvmUnusable() === undefined);
  const argv = [
    QEMU,
    ...(kvm ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg']),
    '-nographic',
    '-monitor',
    'none',
    '-serial',
    'stdio',
    '-no-reboot',
    ...(options.snapshot === false ? [] : ['-snapshot']),
    '-m',
    String(options.memoryMiB ?? 1024),
    '-smp',
    String(options.cpus ?? 2),
    '-nic',
    options.network ? 'user,model=virtio-net-pci' : 'none',
    '-drive',
    `file=${options.image},format=${options.format},if=virtio`,
  ];
  if (options.firmware === 'uefi') {
    const pair = ovmfPair();
    if (!pair || !varsFile) throw new Error('OVMF is not installed');
    argv.push(
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${pair[0]}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${varsFile}`,
    );
  }
  argv.push(...(options.extraArgs ?? []));
  return argv;
}

/** Starts QEMU on `options.image`; resolves once it runs (it has not booted yet). */
export async function bootImage(options: BootOptions): Promise<Vm | VmSkipped> {
  const reason = vmUnavailable(options.firmware);
  if (reason) return { skipped: reason };
  if (!existsSync(options.image)) throw new Error(`no image ${options.image}`);
  const defaultTimeout = options.timeoutSeconds ?? 300;
  const work = mkdtempSync(join(tmpdir(), 'forge-vm-'));
  let varsFile: string | undefined;
  if (options.firmware === 'uefi') {
    varsFile = join(work, 'OVMF_VARS.fd');
    copyFileSync((ovmfPair() as [string, string])[1], varsFile);
  }
  const name = options.name ?? `${basename(options.image)}-${options.firmware}`;
  const logFile = options.logFile ?? join(tmpdir(), 'forge-vm-logs', `${name}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const argv = qemuArgv(options, varsFile);
  if (!accelReported) {
    accelReported = true;
    const kvm = argv.includes('kvm');
    const why = kvm ? '' : options.accel === 'tcg' ? ' (asked for)' : ` (KVM unusable: ${kvmUnusable()})`;
    console.log(`# vm: QEMU with ${kvm ? 'KVM' : `TCG${why}`}`);
  }
  writeFileSync(logFile, `# ${argv.join(' ')}\n`);
  const [program, ...args] = argv;
  hookExit();
  const child = spawn(program as string, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const startedAt = Date.now();

  let text = '';
  let cursor = 0;
  let exited: string | undefined;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const onData = (chunk: Buffer) => {
    const s = chunk.toString('latin1');
    appendFileSync(logFile, s);
    text += s.replace(/\r\n/g, '\n').replace(/\r/g, '');
    wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `exit status ${code}`;
      running.delete(child);
      rmSync(work, { recursive: true, force: true });
      wake();
      resolve();
    });
  });
  child.once('error', (err) => {
    exited = err.message;
    wake();
  });
  child.stdin?.on('error', () => {
    // QEMU went away while we were typing; the waits report it.
  });

  const tail = () => `${text.slice(-2000)}\n(whole console in ${logFile})`;

  function waitFor(pattern: RegExp, timeoutSeconds = defaultTimeout): Promise<RegExpExecArray> {
    const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const m = re.exec(text.slice(cursor));
        if (m) {
          cursor += m.index + m[0].length;
          done();
          resolve(m);
        } else if (exited !== undefined) {
          done();
          reject(new Error(`QEMU ended (${exited}) before ${pattern} appeared; console tail:\n${tail()}`));
        }
      };
      const done = () => {
        waiters.delete(check);
        if (timer) clearTimeout(timer);
      };
      timer = setTimeout(() => {
        done();
        reject(new Error(`${pattern} did not appear within ${timeoutSeconds} s; console tail:\n${tail()}`));
      }, timeoutSeconds * 1000);
      waiters.add(check);
      check();
    });
  }

  function send(s: string): void {
    if (exited === undefined) child.stdin?.write(s);
  }

  let commands = 0;
  let loggedIn = false;
  async function run(command: string, timeoutSeconds = defaultTimeout): Promise<RunResult> {
    const n = ++commands;
    // The markers are printed with printf so that the echo of the typed line never matches them.
    send(`printf '\\n@@S%s@@\\n' ${n}; ${command}; printf '\\n@@E%s:%s@@\\n' ${n} $?\n`);
    await waitFor(new RegExp(`@@S${n}@@\\n`), timeoutSeconds);
    const from = cursor;
    const end = await waitFor(new RegExp(`\\n@@E${n}:(\\d+)@@`), timeoutSeconds);
    const output = text.slice(from, cursor - end[0].length);
    return { output, exitCode: Number(end[1]) };
  }

  async function login(
    user: string,
    password: string,
    timeoutSeconds = defaultTimeout,
  ): Promise<{ promptSeconds: number }> {
    await waitFor(/ login: $/m, timeoutSeconds);
    const promptSeconds = (Date.now() - startedAt) / 1000;
    send(`${user}\n`);
    await waitFor(/Password: $/m, 60);
    send(`${password}\n`);
    await waitFor(/[#$] $/m, 120);
    loggedIn = true;
    // Quiet the kernel on the console and widen the terminal so long command lines do not wrap.
    const setup = await run('stty cols 1000 2>/dev/null; dmesg -n 1 2>/dev/null; true', 60);
    if (setup.exitCode !== 0) throw new Error(`shell set-up failed: ${setup.output}`);
    return { promptSeconds };
  }

  async function poweroff(timeoutSeconds = defaultTimeout): Promise<{ seconds: number }> {
    if (!loggedIn) throw new Error('poweroff() needs a logged-in shell');
    const from = Date.now();
    loggedIn = false;
    send('\nsystemctl poweroff\n');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutSeconds * 1000);
    });
    const outcome = await Promise.race([gone, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      kill();
      throw new Error(`the guest did not power off within ${timeoutSeconds} s; console tail:\n${tail()}`);
    }
    return { seconds: (Date.now() - from) / 1000 };
  }

  function kill(): void {
    if (exited === undefined) child.kill('SIGKILL');
  }

  async function shutdown(): Promise<void> {
    kill();
    await gone;
  }

  return {
    logFile,
    startedAt,
    console: () => text,
    send,
    waitFor,
    login,
    run,
    poweroff,
    shutdown,
    kill,
  };
}
