/**
 * The atomic image types end to end, with real builds and real QEMU, sharing one state directory
 * (version 2 rebuilds only the layers after its one more package):
 *
 * - version 1 is a `debian-atomic-qcow2` whose update URL is a web server on the host's loopback,
 *   which the guest reaches at 10.0.2.2 on QEMU's user-mode network;
 * - version 2 is a `debian-atomic-commit` with one more package (`tree`), a child of version 1 on
 *   the same ref: its repository is checked (ref, log, layout), then served by that web server;
 * - version 1 boots under UEFI: `ostree admin status`, read-only /usr, writable /etc and /var;
 * - the same machine (its disk a writable overlay of version 1's) gets a file in /etc, upgrades to
 *   version 2 with `ostree admin upgrade`, powers off and boots into it (the package is there, the
 *   file too), then rolls back to version 1 and boots into it (the package is gone). UEFI is the harder case for the GRUB
 *   menu that grub-mkconfig writes on the machine (Fedora's linux16/linuxefi would not boot
 *   there); BIOS boots the same menu. ostree 2022.7 has no `admin rollback`:
 *   the rollback deploys the previous commit again with `ostree admin upgrade --deploy-only
 *   --allow-downgrade --override-commit=V1` (no network; /etc kept as with any deployment).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StaticServer, serveStatic } from '@debian-forge/engine/testing/http-static';
import { bootImage, overlay, type Vm, vmUnavailable } from '@debian-forge/stages/testing/vm';
import { forge, sandboxUnavailable, sharedStateDir, tempDir } from './engine.fixture.ts';

const skip = sandboxUnavailable() ?? vmUnavailable('uefi');
if (skip) console.log(`# skipping atomic image tests: ${skip}`);

const REF = 'debian/12/x86_64/atomic';
/** The root password of the test images: `openssl passwd -6` of it is below. */
const PASSWORD = 'forge-test-password';
const HASH =
  '$6$kf1IGIQAi79xsQ3a$rHuda1hHUtZCIfyF1ikc8ge4tKep0XAyhshfNETWfNlJkmKAbvtMH6160hwMp3FjAZLYKvtaRQFW2ePUR3UhS/';

const blueprint = (version: string, packages: string[]) => ({
  name: 'atomic',
  version,
  packages: packages.map((name) => ({ name })),
  customizations: { hostname: 'forge-atomic', user: [{ name: 'root', password: HASH }] },
});

/** The commit id `forge compose` printed for an OSTree image type. */
function commitOf(stdout: string): string {
  const m = /^OSTree commit: ([0-9a-f]{64}) \(ref (\S+)\)$/m.exec(stdout);
  assert.ok(m, `no commit in the output:\n${stdout.slice(-2000)}`);
  assert.equal(m[2], REF);
  return m[1] as string;
}

function timed<T>(label: string, f: () => T): T {
  const start = Date.now();
  const result = f();
  console.log(`# ${label}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return result;
}

describe('atomic Debian images: commit, disk, upgrade and rollback', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let server: StaticServer;
  let served: string;
  let image: string;
  let v1: string;
  let v2: string | undefined;

  const compose = (bp: unknown, type: string, out: string, flags: string[]) => {
    const file = join(dir.path, `${out}.json`);
    writeFileSync(file, JSON.stringify(bp));
    const r = timed(`forge compose ${type} (${out})`, () =>
      forge([
        'compose',
        file,
        '--type',
        type,
        ...flags,
        '--state-dir',
        sharedStateDir(join(dir.path, 'state')),
        '--output',
        join(dir.path, out),
      ]),
    );
    assert.equal(r.status, 0, r.stdout.slice(-4000) + r.stderr);
    return r.stdout;
  };

  before(async () => {
    dir = tempDir('forge-atomic-');
    served = join(dir.path, 'served');
    mkdirSync(served);
    server = await serveStatic(served);
    const url = `http://10.0.2.2:${server.port}/repo`;
    const out = compose(blueprint('1.0.0', []), 'debian-atomic-qcow2', 'v1', ['--url', url]);
    v1 = commitOf(out);
    image = join(dir.path, 'v1', 'disk.qcow2');
  });
  after(async () => {
    await server?.close();
    dir?.cleanup();
  });

  it('debian-atomic-commit: version 2 as a child of version 1, its repository in OSTree layout', () => {
    const out = compose(blueprint('2.0.0', ['tree']), 'debian-atomic-commit', 'v2', [
      '--ref',
      REF,
      '--parent',
      v1,
    ]);
    const commit = commitOf(out);
    execFileSync('tar', ['-xf', join(dir.path, 'v2', 'commit.tar'), '-C', served]);
    const repo = join(served, 'repo');
    const ostree = (...argv: string[]) =>
      execFileSync('ostree', [...argv, `--repo=${repo}`], { encoding: 'utf8' });
    assert.equal(ostree('refs').trim(), REF);
    assert.equal(ostree('rev-parse', REF).trim(), commit);
    assert.match(ostree('show', REF), new RegExp(`^Parent:\\s+${v1}$`, 'm'));
    const log = ostree('log', REF);
    assert.match(log, new RegExp(`^commit ${commit}$`, 'm'));
    assert.match(log, /^Version: 12$/m);
    assert.match(ostree('fsck'), /no errors/);
    const ls = (path: string) => ostree('ls', REF, path);
    // /etc lives in /usr/etc; /var is empty (tmpfiles.d recreates it); toplevel links into /var.
    assert.match(ls('/usr/etc/os-release'), /os-release$/m);
    assert.throws(() => ls('/etc'));
    assert.equal(ls('/var').trim().split('\n').length, 1);
    assert.match(ls('/usr/lib/tmpfiles.d/ostree-preptree-var.conf'), /conf$/m);
    const links: [string, string][] = [
      ['/home', 'var/home'],
      ['/root', 'var/roothome'],
      ['/opt', 'var/opt'],
      ['/ostree', 'sysroot/ostree'],
      ['/usr/local', '../var/usrlocal'],
    ];
    for (const [link, target] of links) {
      assert.match(ls(link), new RegExp(`${link} -> ${target}$`, 'm'));
    }
    const modules = ostree('ls', REF, '/usr/lib/modules').trim().split('\n').slice(1);
    assert.equal(modules.length, 1);
    const kver = (modules[0] as string).replace(/^.*\/usr\/lib\/modules\//, '');
    assert.match(ls(`/usr/lib/modules/${kver}/vmlinuz`), /vmlinuz$/m);
    assert.match(ls(`/usr/lib/modules/${kver}/initramfs.img`), /initramfs\.img$/m);
    assert.equal(ostree('ls', REF, '/boot').trim().split('\n').length, 1);
    assert.match(ls('/usr/bin/tree'), /tree$/m);
    v2 = commit;
  });

  /**
   * The machine: a writable overlay of version 1's disk under UEFI, on the user-mode network,
   * booted by the first test that needs it and again by `restart()` (power off, boot a new QEMU on
   * the same overlay: the staged deployment is written at shutdown, the next boot picks it).
   */
  let vm: Vm | undefined;
  let disk: string | undefined;
  let boots = 0;
  const machine = async (): Promise<Vm> => {
    if (vm) return vm;
    disk ??= overlay(image, 'qcow2', dir.path);
    const started = await bootImage({
      image: disk,
      format: 'qcow2',
      firmware: 'uefi',
      memoryMiB: 1536,
      network: true,
      snapshot: false,
      name: `atomic-boot${++boots}-uefi`,
    });
    assert.ok(!('skipped' in started), 'skipped' in started ? started.skipped : '');
    vm = started;
    const { promptSeconds } = await vm.login('root', PASSWORD);
    console.log(`# UEFI boot ${boots} to the login prompt: ${promptSeconds.toFixed(1)} s`);
    return vm;
  };
  const restart = async (): Promise<Vm> => {
    const { seconds } = await (await machine()).poweroff();
    console.log(`# power off: ${seconds.toFixed(1)} s`);
    vm = undefined;
    return machine();
  };
  after(async () => {
    await vm?.shutdown();
  });
  /** The output of a command that must succeed. */
  const ok = async (command: string) => {
    const r = await (await machine()).run(command);
    assert.equal(r.exitCode, 0, `${command}:\n${r.output}`);
    return r.output;
  };
  const booted = async () => (await ok('ostree admin status')).match(/^\* debian ([0-9a-f]{64})\.\d+$/m)?.[1];

  it('debian-atomic-qcow2 boots under UEFI: the deployment, read-only /usr, writable /etc and /var', async () => {
    assert.equal(await booted(), v1);
    assert.match(await ok('ostree admin status'), /origin refspec: debian:debian\/12\/x86_64\/atomic/);
    assert.equal((await ok('test -d /sys/firmware/efi && echo efi')).trim(), 'efi');
    const usr = await (await machine()).run('touch /usr/forge-test');
    assert.notEqual(usr.exitCode, 0);
    assert.match(usr.output, /Read-only file system/);
    await ok('touch /etc/forge-test /var/forge-test && rm /etc/forge-test /var/forge-test');
    assert.match(await ok('cat /proc/cmdline'), /ostree=\/ostree\/boot\.\d\/debian\//);
    assert.equal((await ok('hostname')).trim(), 'forge-atomic');
    const state = await (await machine()).run('systemctl is-system-running --wait');
    assert.match(state.output, /running|degraded/);
    assert.match(await ok('ostree remote show-url debian'), /^http:\/\/10\.0\.2\.2:\d+\/repo$/m);
  });

  it('upgrades to version 2 over http, keeps /etc, and rolls back to version 1', async (t) => {
    if (!v2) return t.skip('version 2 was not built');
    assert.equal(await booted(), v1);
    assert.notEqual((await (await machine()).run('command -v tree')).exitCode, 0);
    await ok('echo kept-across-updates > /etc/forge-v1-file');
    await timedAsync('ostree admin upgrade', () => ok('ostree admin upgrade'));
    assert.ok((server.statuses.get(200) ?? 0) > 0, 'the guest fetched nothing from the web server');
    assert.match(await ok('ostree admin status'), new RegExp(`debian ${v2}\\.\\d+ \\(pending\\)`));

    await restart();
    assert.equal(await booted(), v2);
    assert.match(await ok('tree --version'), /^tree v/m);
    assert.equal((await ok('cat /etc/forge-v1-file')).trim(), 'kept-across-updates');
    assert.match(await ok('ostree admin status'), new RegExp(`debian ${v1}\\.\\d+ \\(rollback\\)`));

    await ok(`ostree admin upgrade --deploy-only --allow-downgrade --override-commit=${v1}`);
    const m = await restart();
    assert.equal(await booted(), v1);
    assert.notEqual((await m.run('command -v tree')).exitCode, 0);
    assert.equal((await ok('cat /etc/forge-v1-file')).trim(), 'kept-across-updates');
  });
});

async function timedAsync<T>(label: string, f: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await f();
  console.log(`# ${label}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return result;
}
