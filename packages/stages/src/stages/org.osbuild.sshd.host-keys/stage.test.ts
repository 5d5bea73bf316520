import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestRoot, testRoot } from '../../shared/stage.fixture.ts';
import { main, UNIT } from './stage.ts';

describe('org.osbuild.sshd.host-keys', () => {
  let root: TestRoot;
  beforeEach(() => {
    root = testRoot();
    mkdirSync(join(root.tree, 'etc/ssh'), { recursive: true });
    for (const f of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub', 'ssh_host_rsa_key', 'sshd_config']) {
      writeFileSync(join(root.tree, 'etc/ssh', f), 'x');
    }
  });
  afterEach(() => root.cleanup());

  it('removes the host keys, keeps the configuration, and enables key generation at boot', () => {
    const meta = main(root.args({}));
    assert.deepEqual(meta.removed, [
      '/etc/ssh/ssh_host_ed25519_key',
      '/etc/ssh/ssh_host_ed25519_key.pub',
      '/etc/ssh/ssh_host_rsa_key',
    ]);
    assert.ok(existsSync(join(root.tree, 'etc/ssh/sshd_config')));
    assert.ok(!existsSync(join(root.tree, 'etc/ssh/ssh_host_rsa_key')));
    assert.equal(
      readlinkSync(join(root.tree, 'etc/systemd/system/multi-user.target.wants', UNIT)),
      `/etc/systemd/system/${UNIT}`,
    );
  });

  it('only removes when generate-on-boot is false', () => {
    main(root.args({ 'generate-on-boot': false }));
    assert.ok(!existsSync(join(root.tree, 'etc/systemd/system', UNIT)));
  });
});
