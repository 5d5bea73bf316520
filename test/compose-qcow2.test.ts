/**
 * `forge compose blueprints/server.toml --type qcow2`, booted with QEMU (TCG) twice, BIOS and UEFI:
 * log in on the serial console as the blueprint's user and check the hostname, a package, an
 * enabled service, the root file system by UUID, and that systemd reports no failed unit. A disk
 * too small for the packages fails with a message that says so.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bootImage, vmUnavailable } from '@debian-forge/stages/testing/vm';
import { forge, REPO, sandboxUnavailable, sharedStateDir, tempDir } from './engine.fixture.ts';

const skip = sandboxUnavailable() ?? vmUnavailable('uefi');
if (skip) console.log(`# skipping qcow2 compose and boot tests: ${skip}`);

/** The test password of the server blueprint's user (see blueprints/server.toml). */
const PASSWORD = 'forge-test-password';

describe('forge compose qcow2 of blueprints/server.toml', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let image: string;
  before(() => {
    dir = tempDir('forge-qcow2-');
    const out = join(dir.path, 'out');
    const r = forge([
      'compose',
      join(REPO, 'blueprints/server.toml'),
      '--type',
      'qcow2',
      '--size',
      '3 GiB',
      '--state-dir',
      sharedStateDir(join(dir.path, 'state')),
      '--output',
      out,
    ]);
    assert.equal(r.status, 0, r.stdout.slice(-4000) + r.stderr);
    image = join(out, 'disk.qcow2');
  });
  after(() => dir.cleanup());

  for (const firmware of ['bios', 'uefi'] as const) {
    it(`boots under ${firmware.toUpperCase()} and runs what the blueprint asked for`, async () => {
      const vm = await bootImage({ image, format: 'qcow2', firmware, memoryMiB: 1536 });
      assert.ok(!('skipped' in vm), 'skipped' in vm ? vm.skipped : '');
      try {
        await vm.login('forge', PASSWORD);
        const host = await vm.run('hostname');
        assert.equal(host.output.trim(), 'forge-server');
        const nginx = await vm.run('dpkg-query -W nginx');
        assert.equal(nginx.exitCode, 0, nginx.output);
        assert.match(nginx.output, /^nginx\t\S+/m);
        const ssh = await vm.run('systemctl is-enabled ssh.service');
        assert.equal(ssh.output.trim(), 'enabled');
        const state = await vm.run('systemctl is-system-running --wait');
        assert.match(state.output, /running|degraded/);
        const failed = await vm.run('systemctl --failed --no-legend --plain --no-pager | cat');
        // The serial console is a terminal: drop its control sequences before comparing.
        // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the sequences removed here
        const units = failed.output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim();
        assert.equal(units, '', `failed units:\n${units}`);
        const cmdline = await vm.run('cat /proc/cmdline');
        assert.match(cmdline.output, /root=UUID=[0-9a-f-]{36}/);
        assert.doesNotMatch(cmdline.output, /loop/);
        const efi = await vm.run('test -d /sys/firmware/efi');
        assert.equal(efi.exitCode, firmware === 'uefi' ? 0 : 1);
      } finally {
        await vm.shutdown();
      }
    });
  }

  // The same blueprint and type: the os tree comes from the store, only the disk is made again.
  it('says the disk is too small when the packages do not fit', () => {
    const r = forge([
      'compose',
      join(REPO, 'blueprints/server.toml'),
      '--type',
      'qcow2',
      '--size',
      '300 MiB',
      '--state-dir',
      sharedStateDir(join(dir.path, 'state')),
      '--output',
      join(dir.path, 'small'),
    ]);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /No space left on device|too small/);
  });
});
