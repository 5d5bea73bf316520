/**
 * The OSTree modules through the real `forge`, as root: a commit served over HTTP on loopback by a
 * static file server is fetched by the `org.osbuild.ostree` source; the `os` pipeline makes a
 * system root (init-fs, os-init), pulls the commit into it (the `org.osbuild.ostree` input),
 * deploys it, fills the stateroot's /var (fillvar) and writes into the deployment through the
 * `org.osbuild.ostree.deployment` mount; the `image` pipeline copies that system root into an ext4
 * file system and runs post-copy on it; the `checkout` pipeline copies the commit from an
 * `org.osbuild.ostree.checkout` input. The results are read on disk and in the image.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { commitFiles, hasOstree, ostree } from '@debian-forge/engine/testing';
import { type StaticServer, serveStatic } from '@debian-forge/engine/testing/http-static';
import { forge, sandboxUnavailable, tempDir, testLibdir, writeJson } from './engine.fixture.ts';
import { debugfs, forgeAsync, releaseUnder, resourcesUnder } from './engine-host.fixture.ts';

const skip = sandboxUnavailable() ?? (!hasOstree ? 'ostree is not installed' : undefined);
if (skip) console.log(`# skipping the OSTree build: ${skip}`);

const REF = 'debian/12/x86_64/atomic';
const KVER = '6.1.0-test';
const EXT2_IMMUTABLE_FL = 0x10;

function manifest(commit: string, url: string) {
  const deployment = { osname: 'debian', ref: `debian:${REF}` };
  const disk = { type: 'org.osbuild.loopback', options: { filename: 'disk.img' } };
  const ext4 = [{ name: 'root', type: 'org.osbuild.ext4', source: 'root', target: '/' }];
  return {
    version: '2',
    pipelines: [
      {
        name: 'os',
        stages: [
          { type: 'org.osbuild.ostree.init-fs' },
          { type: 'org.osbuild.ostree.os-init', options: { osname: 'debian' } },
          {
            type: 'org.osbuild.ostree.pull',
            options: { repo: '/ostree/repo', remote: 'debian' },
            inputs: {
              commits: {
                type: 'org.osbuild.ostree',
                origin: 'org.osbuild.source',
                references: { [commit]: { ref: REF } },
              },
            },
          },
          {
            type: 'org.osbuild.ostree.deploy',
            options: { osname: 'debian', ref: REF, remote: 'debian', rootfs: { label: 'root' } },
          },
          { type: 'org.osbuild.ostree.fillvar', options: { deployment } },
          {
            type: 'org.osbuild.mkdir',
            options: {
              paths: [
                { path: '/etc/forge', mode: 0o750 },
                { path: '/var/lib/forge', mode: 0o700 },
              ],
            },
            mounts: [
              {
                name: 'ostree',
                type: 'org.osbuild.ostree.deployment',
                options: { deployment: { default: true } },
              },
            ],
          },
        ],
      },
      {
        name: 'image',
        stages: [
          { type: 'org.osbuild.truncate', options: { filename: 'disk.img', size: String(64 * 1024 ** 2) } },
          {
            type: 'org.osbuild.mkfs.ext4',
            options: { uuid: '2f8e6b0c-3d5a-4c1e-9b7f-0a1b2c3d4e5f', label: 'root' },
            devices: { device: disk },
          },
          {
            type: 'org.osbuild.copy',
            inputs: {
              tree: { type: 'org.osbuild.tree', origin: 'org.osbuild.pipeline', references: ['name:os'] },
            },
            options: { paths: [{ from: 'input://tree/', to: 'mount://root/' }] },
            devices: { root: disk },
            mounts: ext4,
          },
          { type: 'org.osbuild.ostree.post-copy', devices: { root: disk }, mounts: ext4 },
        ],
      },
      {
        name: 'checkout',
        stages: [
          {
            type: 'org.osbuild.copy',
            inputs: {
              commit: {
                type: 'org.osbuild.ostree.checkout',
                origin: 'org.osbuild.source',
                references: [commit],
              },
            },
            options: { paths: [{ from: `input://commit/${commit}/usr/etc`, to: 'tree:///etc' }] },
          },
        ],
      },
    ],
    sources: { 'org.osbuild.ostree': { items: { [commit]: { remote: { url } } } } },
  };
}

describe('forge build of an OSTree deployment from a commit served over HTTP', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let served: StaticServer;
  let commit: string;
  let out: string;
  let path: string;
  let libdir: string;
  let result: { status: number | null; stdout: string; stderr: string };
  let leftBehind: { loops: string[]; mounts: string[] };

  before(async () => {
    dir = tempDir('forge-ostree-');
    // The commit: a bootable tree as org.osbuild.ostree.preptree leaves one (tmpfiles.d for /var).
    const content = join(dir.path, 'content');
    commitFiles(join(dir.path, 'www/repo'), content, REF, {
      [`usr/lib/modules/${KVER}/vmlinuz`]: 'kernel',
      [`usr/lib/modules/${KVER}/initramfs.img`]: 'initramfs',
      'usr/etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
      'usr/lib/tmpfiles.d/forge-var.conf': 'd /var/roothome 0700 root root -\nd /var/opt 0755 root root -\n',
    });
    // Committed again with the empty directories and the link a deployment needs.
    for (const d of ['boot', 'sysroot', 'var']) mkdirSync(join(content, d));
    symlinkSync('sysroot/ostree', join(content, 'ostree'));
    commit = ostree(join(dir.path, 'www/repo'), 'commit', `--branch=${REF}`, `--tree=dir=${content}`);
    served = await serveStatic(join(dir.path, 'www'));
    libdir = testLibdir(dir.path);
    out = join(dir.path, 'out');
    path = writeJson(join(dir.path, 'ostree.json'), manifest(commit, `${served.url}/repo`));
    result = await forgeAsync([
      'build',
      path,
      '--libdir',
      libdir,
      '--store',
      join(dir.path, 'store'),
      '--rundir',
      join(dir.path, 'run'),
      '--export',
      'os',
      '--export',
      'image',
      '--export',
      'checkout',
      '--output-directory',
      out,
    ]);
    leftBehind = resourcesUnder(dir.path);
  });
  after(async () => {
    await served?.close();
    if (!dir) return;
    await releaseUnder(dir.path);
    // The store's trees hold immutable deployment directories.
    spawnSync('chattr', ['-R', '-f', '-i', join(dir.path, 'store')]);
    dir.cleanup();
  });

  it('validates and builds, leaving nothing mounted', () => {
    const inspect = forge(['inspect', '--libdir', libdir, path]);
    assert.equal(inspect.status, 0, `${inspect.stdout}${inspect.stderr}`);
    assert.equal(JSON.parse(inspect.stdout).pipelines.length, 3);
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.ok(served.requests.some((p) => p.startsWith('/repo/objects/')));
    assert.deepEqual(leftBehind, { loops: [], mounts: [] });
    // The source cache: an archive repository holding the commit.
    const cache = join(dir.path, 'store/sources/org.osbuild.ostree/repo');
    assert.match(readFileSync(join(cache, 'config'), 'utf8'), /^mode=archive/m);
    assert.equal(ostree(cache, 'cat', commit, '/usr/etc/os-release'), 'ID=debian\nVERSION_ID="12"');
  });

  it('deployed the commit, filled /var and wrote through the deployment mount', () => {
    const os = join(out, 'os');
    const deployment = join(os, 'ostree/deploy/debian/deploy', `${commit}.0`);
    const stateVar = join(os, 'ostree/deploy/debian/var');
    assert.equal(ostree(join(os, 'ostree/repo'), 'rev-parse', `debian:${REF}`), commit);
    assert.equal(readFileSync(join(deployment, 'etc/os-release'), 'utf8'), 'ID=debian\nVERSION_ID="12"\n');
    // fillvar: the listed entries from the commit's tmpfiles.d.
    assert.equal(lstatSync(join(stateVar, 'roothome')).mode & 0o7777, 0o700);
    assert.ok(lstatSync(join(stateVar, 'opt')).isDirectory());
    // The mkdir stage saw the deployment as /: /etc of the deployment, /var of the stateroot.
    assert.equal(lstatSync(join(deployment, 'etc/forge')).mode & 0o7777, 0o750);
    assert.equal(lstatSync(join(stateVar, 'lib/forge')).mode & 0o7777, 0o700);
    assert.equal(existsSync(join(os, 'etc')), false);
    assert.deepEqual(readdirSync(join(deployment, 'var')), []);
    const entries = join(os, 'boot/loader/entries');
    assert.match(
      readFileSync(join(entries, readdirSync(entries)[0] as string), 'utf8'),
      /^options root=LABEL=root /m,
    );
  });

  it('post-copy made the deployment in the ext4 image immutable again', () => {
    const image = join(out, 'image/disk.img');
    const [deployStat, originStat, motd] = debugfs(image, [
      `stat /ostree/deploy/debian/deploy/${commit}.0`,
      `stat /ostree/deploy/debian/deploy/${commit}.0.origin`,
      `cat /ostree/deploy/debian/deploy/${commit}.0/etc/os-release`,
    ]);
    const flags = (stat: string | undefined) => Number(/Flags: (0x[0-9a-f]+)/.exec(stat ?? '')?.[1]);
    assert.equal(flags(deployStat) & EXT2_IMMUTABLE_FL, EXT2_IMMUTABLE_FL, deployStat);
    assert.equal(flags(originStat) & EXT2_IMMUTABLE_FL, 0);
    assert.match(motd ?? '', /^ID=debian$/m);
  });

  it('checked out the commit for the checkout pipeline', () => {
    const etc = join(out, 'checkout/etc');
    assert.equal(readFileSync(join(etc, 'os-release'), 'utf8'), 'ID=debian\nVERSION_ID="12"\n');
    assert.equal(existsSync(join(out, 'checkout/usr')), false);
  });
});
