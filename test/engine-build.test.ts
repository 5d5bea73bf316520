/**
 * `forge build` end to end, as root with bubblewrap: trees built from sources and stages, caching
 * across runs, the sandbox's limits, and failures reaching the user.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readBuildOutput } from '@debian-forge/engine';
import { forge, sandboxUnavailable, tempDir, testLibdir, writeJson } from './engine.fixture.ts';

const skip = sandboxUnavailable();
if (skip) console.log(`# skipping engine build tests: ${skip}`);

const hello = Buffer.from('hello from a source\n');
const helloSum = `sha256:${createHash('sha256').update(hello).digest('hex')}`;

function treeManifest(mode = 0o755) {
  return {
    version: '2',
    pipelines: [
      {
        name: 'tree',
        'source-epoch': 1700000000,
        stages: [
          { type: 'org.osbuild.mkdir', options: { paths: [{ path: '/etc/forge', mode, parents: true }] } },
          {
            type: 'org.osbuild.copy',
            inputs: {
              src: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: [helloSum] },
            },
            options: { paths: [{ from: `input://src/${helloSum}`, to: 'tree:///etc/forge/hello' }] },
          },
        ],
      },
    ],
    sources: {
      'org.osbuild.inline': { items: { [helloSum]: { encoding: 'base64', data: hello.toString('base64') } } },
    },
  };
}

describe('forge build', { skip }, () => {
  let dir: ReturnType<typeof tempDir>;
  let libdir: string;
  before(() => {
    dir = tempDir('forge-build-');
    libdir = testLibdir(dir.path);
  });
  after(() => dir.cleanup());

  it('builds a tree from an inline source and exports it, with clamped mtimes', () => {
    const manifest = writeJson(join(dir.path, 'tree.json'), treeManifest());
    const out = join(dir.path, 'out1');
    const r = forge([
      'build',
      manifest,
      '--libdir',
      libdir,
      '--store',
      join(dir.path, 'store1'),
      '--export',
      'tree',
      '--output-directory',
      out,
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(out, 'tree/etc/forge/hello'), 'utf8'), hello.toString());
    assert.equal(statSync(join(out, 'tree/etc/forge')).mode & 0o777, 0o755);
    assert.equal(statSync(join(out, 'tree/etc/forge/hello')).mtimeMs, 1700000000 * 1000);
    assert.match(r.stdout, /\[1\/2\] org\.osbuild\.mkdir/);
    assert.match(r.stdout, /Exported tree to /);
  });

  it('builds nothing the second time, and rebuilds only from a changed stage on', () => {
    const store = join(dir.path, 'store2');
    const flags = [
      '--libdir',
      libdir,
      '--store',
      store,
      '--export',
      'tree',
      '--checkpoint',
      '*',
      '--cache-max-size',
      'unlimited',
    ];
    const first = writeJson(join(dir.path, 'a.json'), treeManifest());
    let r = forge(['build', first, ...flags, '--output-directory', join(dir.path, 'o1')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    r = forge(['build', first, ...flags, '--output-directory', join(dir.path, 'o2')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Nothing to build/);
    assert.doesNotMatch(r.stdout, /org\.osbuild\.mkdir:/);
    assert.equal(readFileSync(join(dir.path, 'o2/tree/etc/forge/hello'), 'utf8'), hello.toString());

    // Change the second stage only: the first comes from the store, the second runs again.
    const changed = treeManifest();
    const copy = changed.pipelines[0]?.stages[1] as { options: { paths: { to: string }[] } };
    (copy.options.paths[0] as { to: string }).to = 'tree:///etc/forge/hello2';
    const second = writeJson(join(dir.path, 'b.json'), changed);
    r = forge(['build', second, ...flags, '--output-directory', join(dir.path, 'o3')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /starting from stored stage org\.osbuild\.mkdir/);
    assert.doesNotMatch(r.stdout, /org\.osbuild\.mkdir: [0-9a-f]{64}/);
    assert.match(r.stdout, /org\.osbuild\.copy: [0-9a-f]{64}/);
    assert.ok(existsSync(join(dir.path, 'o3/tree/etc/forge/hello2')));
  });

  it('keeps a stage off the network and inside its tree', () => {
    const manifest = writeJson(join(dir.path, 'probe.json'), {
      version: '2',
      pipelines: [
        {
          name: 'probe',
          stages: [
            {
              type: 'org.forge.test.probe',
              options: {
                report: true,
                connect: '192.0.2.1',
                write: [
                  '/usr/forge-probe',
                  '/etc/forge-probe',
                  '/run/osbuild/tree/inside',
                  `${dir.path}/escaped`,
                ],
              },
            },
          ],
        },
      ],
    });
    const out = join(dir.path, 'probe-out');
    const r = forge([
      'build',
      manifest,
      '--libdir',
      libdir,
      '--store',
      join(dir.path, 'store3'),
      '--export',
      'probe',
      '--output-directory',
      out,
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'probe/report.json'), 'utf8')) as Record<string, string>;
    assert.equal(report.connect, 'ENETUNREACH');
    assert.equal(report['/usr/forge-probe'], 'EROFS');
    assert.equal(report['/run/osbuild/tree/inside'], 'written');
    // What a stage writes outside its tree stays in the sandbox.
    assert.ok(!existsSync(`${dir.path}/escaped`));
    assert.ok(!existsSync('/usr/forge-probe') && !existsSync('/etc/forge-probe'));
  });

  it("reports a failing stage's output and exit code, also in --json", () => {
    const manifest = writeJson(join(dir.path, 'fail.json'), {
      version: '2',
      pipelines: [
        {
          name: 'broken',
          stages: [{ type: 'org.forge.test.probe', options: { print: 'something broke', exit: 3 } }],
        },
      ],
    });
    const flags = [
      '--libdir',
      libdir,
      '--store',
      join(dir.path, 'store4'),
      '--export',
      'broken',
      '--output-directory',
      join(dir.path, 'o4'),
    ];
    let r = forge(['build', manifest, ...flags]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /something broke/);
    assert.match(r.stdout, /^Failed$/m);
    r = forge(['build', manifest, ...flags, '--json']);
    assert.equal(r.status, 1);
    // Read as the worker reads it: the schema the CLI writes it with.
    const result = readBuildOutput(r.stdout);
    assert.equal(result?.type, 'error', r.stdout);
    assert.equal(result.success, false);
    assert.equal(result.error.type, 'org.osbuild.error.stage');
    assert.equal(result.error.details.stage.type, 'org.forge.test.probe');
    assert.match(result.error.details.stage.output, /something broke/);
    assert.equal(result.log.broken?.[0]?.success, false);
  });

  it('kills a stage that runs past --stage-timeout', () => {
    const manifest = writeJson(join(dir.path, 'slow.json'), {
      version: '2',
      pipelines: [{ name: 'slow', stages: [{ type: 'org.forge.test.probe', options: { sleep: 60 } }] }],
    });
    const started = Date.now();
    const r = forge([
      'build',
      manifest,
      '--libdir',
      libdir,
      '--store',
      join(dir.path, 'store5'),
      '--export',
      'slow',
      '--output-directory',
      join(dir.path, 'o5'),
      '--stage-timeout',
      '2',
    ]);
    assert.equal(r.status, 1);
    assert.ok(Date.now() - started < 30_000);
    assert.match(r.stdout, /timed out after 2 s/);
  });

  it('refuses an invalid manifest with exit code 2 and validates stage options against the libdir', () => {
    const manifest = writeJson(join(dir.path, 'bad.json'), {
      version: '2',
      pipelines: [
        {
          name: 'x',
          stages: [{ type: 'org.osbuild.mkdir', options: { paths: [{ path: '/a', mode: 'rwx' }] } }],
        },
      ],
    });
    const r = forge(['build', manifest, '--libdir', libdir, '--store', join(dir.path, 'store6'), '--json']);
    assert.equal(r.status, 2);
    const result = readBuildOutput(r.stdout);
    assert.equal(result?.type, 'https://osbuild.org/validation-error', r.stdout);
    assert.deepEqual(result.errors, [
      {
        message: "'rwx' is not of type 'number'",
        path: ['pipelines', 0, 'stages', 0, 'options', 'paths', 0, 'mode'],
      },
    ]);
  });
});
