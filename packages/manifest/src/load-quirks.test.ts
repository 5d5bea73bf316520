/**
 * OSBuild's loading quirks on small manifests, with the exact ids real OSBuild computed for them.
 * Every id here was computed by osbuild 191 (`--inspect` for stage and pipeline ids; its own
 * `formats.v2.load` for the input, device and mount ids it does not print). The manifests and
 * OSBuild's complete output are in `oracle-cases.fixture.ts`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadManifest, parseManifestText } from './index.ts';
import type { Manifest, Pipeline, Stage } from './model.ts';
import * as cases from './oracle-cases.fixture.ts';

function load(text: string): Manifest {
  return loadManifest(parseManifestText(text));
}

function pipeline(manifest: Manifest, name: string): Pipeline {
  const p = manifest.pipelines.find((x) => x.name === name);
  assert.ok(p, `pipeline ${name}`);
  return p;
}

/** The single stage of a pipeline. */
function stage(manifest: Manifest, name: string): Stage {
  const stages = pipeline(manifest, name).stages;
  assert.equal(stages.length, 1, `stages of ${name}`);
  return stages[0] as Stage;
}

/** Stage id of each named single-stage pipeline. */
function stageIds(manifest: Manifest, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, stage(manifest, n).id]));
}

const NOOP = 'beda46704765a47e6d4f44aff22168ae36866c9c0e6e11552b775b77776b2969'; // noop stage, no options

describe('input references', () => {
  const m = load(cases.REFERENCES.manifest);

  it('gives the same input id for a list of names, an object and a list of {id, options}', () => {
    const inputIds = ['list', 'object', 'objects', 'objects-no-options', 'no-prefix-and-name'].map(
      (n) => stage(m, n).inputs.get('t')?.id,
    );
    const TREE_INPUT = 'dca5485b310b2374d7f6ff8943a3fd02f9db767b6b11ed35aba9cb3a59be5f01';
    assert.deepEqual(inputIds, Array(5).fill(TREE_INPUT));
    assert.equal(stage(m, 'list').id, '10d0bf36376d6ab544795052d9a8556ed6fb3fd88de7ec666884c38ba869011d');
    assert.equal(stage(m, 'object').id, stage(m, 'list').id);
    assert.equal(stage(m, 'objects').id, stage(m, 'list').id);
  });

  it('resolves pipeline names to pipeline ids', () => {
    const TREE = '950778ef3dd8ccc007931a1b13a40ced8417551bc9914b45dd9839724ec9df8f';
    assert.equal(pipeline(m, 'tree').id, TREE);
    assert.deepEqual([...(stage(m, 'list').inputs.get('t')?.refs ?? [])], [[TREE, {}]]);
  });

  it('leaves the input name out of the input id but not out of the stage id', () => {
    const renamed = stage(m, 'other-input-name');
    assert.equal(renamed.inputs.get('u')?.id, stage(m, 'list').inputs.get('t')?.id);
    assert.equal(renamed.id, 'f7c1f322c3f0d6504560a7edce4e655ef80db8ab372ec2eb56832390825549a0');
  });

  it('counts reference options', () => {
    assert.equal(
      stage(m, 'with-options').inputs.get('t')?.id,
      '36f43aab7eef24b671b59d5c6f502817a904c3cdfb6a6c029ca7f7a06e8b521d',
    );
    assert.equal(
      stage(m, 'with-options').id,
      'c512d92da2ba57187350b0d71d26b3cd65603d6a2b53d8ebd4172666a8c5e137',
    );
  });

  it('drops a pipeline reference without the name: prefix, as if there were no reference', () => {
    const EMPTY_INPUT = 'f5b96fa2f8f1a5d32824c741a6a09944669a3ea301e19968dcae4e0ca1bc2a54';
    assert.equal(stage(m, 'no-prefix').inputs.get('t')?.id, EMPTY_INPUT);
    assert.equal(stage(m, 'no-prefix').inputs.get('t')?.refs.size, 0);
    assert.deepEqual(stageIds(m, ['no-prefix', 'empty']), {
      'no-prefix': '04868fb8bd312fc0432327b6ff85292cabd6c47bbe46917564e76ccfc2504a70',
      empty: '04868fb8bd312fc0432327b6ff85292cabd6c47bbe46917564e76ccfc2504a70',
    });
  });

  it('gives the same input id for the three forms of source references', () => {
    const SOURCE_INPUT = 'c2650e4485a6bdac36089647e605f47158735bb0fca4743f06b06257d9c09617';
    for (const n of ['source-list', 'source-object', 'source-objects']) {
      assert.equal(stage(m, n).inputs.get('f')?.id, SOURCE_INPUT, n);
      assert.equal(stage(m, n).id, '4e4291aa93cb1c162854d3093a4b40f88aabe45cf7b9773ab57b19d95ec94908', n);
    }
  });
});

describe('devices', () => {
  const m = load(cases.DEVICES.manifest);
  const CHAIN = 'b9066b146c60e48767878a87ad3453be372ca9612038787fe0c149d866876385';

  it('orders devices by parent whatever order the manifest lists them in', () => {
    for (const n of ['parents-first', 'children-first', 'mixed']) {
      const s = stage(m, n);
      assert.equal(s.id, CHAIN, n);
      assert.deepEqual([...s.devices.keys()], ['disk', 'luks', 'lv'], n);
      assert.deepEqual(
        [...s.devices.values()].map((d) => d.id),
        [
          'c78169ae6a4a41f89fca6d29e2a0150bf3092e97b94ec15fa228e967b11475e8',
          '5ef8ba853ab09fcb91c39b5f08c324e545afe398b697d5027826e148f6d012e1',
          '71de04beaa0e639c4ad537bdbf0767e1b1050cd091cf61fd6e61d62701bbb8d0',
        ],
        n,
      );
      assert.equal(
        s.mounts.get('root')?.id,
        '1fc44c9bd26762f7cb3226ccb9c6db38960343495bc51475174a98fc5aaa5a77',
      );
    }
  });

  it('leaves devices out of the stage id when no mount uses them', () => {
    assert.deepEqual(stageIds(m, ['no-mounts', 'no-devices']), { 'no-mounts': NOOP, 'no-devices': NOOP });
  });

  it('keeps device names like "2" in manifest order, parents first', () => {
    const s = stage(m, 'numeric-names');
    assert.deepEqual([...s.devices.keys()], ['b', '2', '1']);
    assert.equal(s.devices.get('1')?.id, '39eab130afaaf5c3ac102ac93d7ec8af5c4a80b97aa26a1748fc046f3b224bbe');
    assert.equal(s.id, '14b7a7865981fae1ef48ade325f7b302206a26eea6fc216db9eab282b3a7495b');
  });
});

describe('mounts', () => {
  const m = load(cases.MOUNTS.manifest);
  const mountId = (n: string, mount = 'root') => stage(m, n).mounts.get(mount)?.id;

  it('hashes partition 1 and partition 1.0 differently, and leaves partition 0 out', () => {
    assert.equal(mountId('plain'), 'ede8824c04c65b2d64436321edce8743dc33f328da3faf5d5943998a757e778d');
    assert.equal(mountId('partition-1'), '71b470767534bb508fb531d3d3e88fbf9e8e3addffb5c7a7f2bcf7cf120eb42a');
    assert.equal(
      mountId('partition-1.0'),
      'e436206cb6a03ab68e98526a108c3369ac1081344a1177f82963cf33610dd67a',
    );
    assert.equal(mountId('partition-0'), mountId('plain'));
  });

  it('leaves an empty target out and treats empty options as none', () => {
    assert.equal(mountId('empty-target'), '8bc625c277a31d9ef3e989b7237281c7b13248ab16b11ee2c05cf1b94391e05c');
    assert.equal(mountId('options'), 'e612d76d48f07e4b3c3e7f65f3cf91f487902aea6efcbcea93b3e82329196b44');
    assert.equal(mountId('empty-options'), mountId('plain'));
  });

  it('gives the stage ids OSBuild gives, in which the order of mounts counts', () => {
    assert.deepEqual(
      stageIds(m, ['plain', 'partition-1', 'partition-1.0', 'partition-0', 'empty-target', 'options']),
      {
        plain: '12ece18c0b3b192f90897b3589a61f6265d0f3d9a0e6d3b4891b3027f8ee056d',
        'partition-1': 'b8d9fa365862635b09fe50c2ea0b6066bbf7d4c150c1f0f687d9bdee92a87dae',
        'partition-1.0': '57080379d923ac910a518cc63ffd63d0f3c10657dd729550c66e826f4938c475',
        'partition-0': '12ece18c0b3b192f90897b3589a61f6265d0f3d9a0e6d3b4891b3027f8ee056d',
        'empty-target': 'f7e00c090e4fb11f8d59e6aef6d474741aa976096c1dcd1d8afe011f597d7e00',
        options: '7eadb9d4415a9aa75211ad35ce2069a80f6e9ea3a5d6fd43501f18cdeaf3bb54',
      },
    );
    assert.equal(mountId('two', 'boot'), '7c09f172e038a3b9c84a0c66e66c4d999b8c13f116a6fbe5090ad09c2990f0ea');
    assert.equal(mountId('two', 'root'), '8950a13ecc63265fcb0130296d540a16a5e3099f1c88daa89583422d3307daf5');
    assert.deepEqual(stageIds(m, ['two', 'two-swapped']), {
      two: '96d855d565cc495132e9c8868c4bfa193dbed9a03ded11494cfb89844d6114e6',
      'two-swapped': 'db47b159fe7786f95bf7ad57673ac49e95c3f5e75f6ee44d5aa49f6296fe9040',
    });
  });
});

describe('numbers and strings in options', () => {
  it('hashes 1 and 1.0 differently, and 1.0, 1E0 and 1.000 alike', () => {
    const m = load(cases.NUMBERS.manifest);
    const FLOAT = '9ca43abd322e067cbaa129d97bf48e14cc969810a3bbba7cb3676ab205071cc8';
    assert.deepEqual(stageIds(m, ['int', 'float', 'float-exponent', 'float-zeros']), {
      int: '586122988c5bb1aeb600a7137a36a011b1a172cd42425767e77f5165b779262c',
      float: FLOAT,
      'float-exponent': FLOAT,
      'float-zeros': FLOAT,
    });
  });

  it('keeps integers beyond 2^53 exact, and floats, overflow and NaN as Python prints them', () => {
    const m = load(cases.NUMBERS.manifest);
    assert.deepEqual(stageIds(m, ['big-odd', 'big-even', 'many']), {
      'big-odd': '2f61af3dd63ddc6083c8056e920334cd9221709125fe57931e4272c940caaa0f',
      'big-even': '704d1895917cfe4a79bd821868ea5815795bf1ceee56f94d1b2fec39a68b9a14',
      many: '4c4794302d676452169d7a83f8abd78cfb3c140ac4431cebe1f2cdb4396c8b4c',
    });
  });

  it('hashes a non-ASCII string the same whether written raw or escaped', () => {
    const m = load(cases.STRINGS.manifest);
    const CAFE = 'ab16688b88a8b46fbac08b34708febf07238926fdae15141f555c3a0d6ee049a';
    assert.deepEqual(stageIds(m, ['raw', 'escaped', 'ascii']), {
      raw: CAFE,
      escaped: CAFE,
      ascii: 'ff097492a7dd1f7a41217fbed2f5856244fe46f1008309ea98141e8871f74a1c',
    });
  });

  it('hashes control characters, odd keys, a repeated key and a lone surrogate as OSBuild', () => {
    const m = load(cases.STRINGS.manifest);
    assert.deepEqual(stageIds(m, ['control', 'keys', 'duplicate-key', 'last-value', 'lone-surrogate']), {
      control: 'da348bb0c2309c4dbd26942b55aeef48475b396a211d03b9708c0aa21a9be207',
      keys: '28f67f8795fb4386824cfa145621e06f9adb4c0dec9be18a20d1cde3842b5126',
      'duplicate-key': '7edc9b0a07badd90c0e2bdd446b52fc49fc64d3b7759d64d3e4a1a7b59007f62',
      'last-value': '7edc9b0a07badd90c0e2bdd446b52fc49fc64d3b7759d64d3e4a1a7b59007f62',
      'lone-surrogate': '6fca27646dad25d1cef328945c33c652223adf269cb62a229db9b4ec0674b02a',
    });
  });
});

describe('source-epoch', () => {
  const m = load(cases.SOURCE_EPOCH.manifest);

  it('enters every stage id when set, even as 0', () => {
    assert.deepEqual(stageIds(m, ['none', 'zero', 'huge']), {
      none: NOOP,
      zero: 'bccce523403583bcb7b6ce2aa5e67ec7633898c2be4c9896571f83d457c952c0',
      huge: 'eee79771164134ab0e4bfdaa486a760e4ee5fab9113fc3b7bb525b3add0e2f0a',
    });
    assert.deepEqual(
      pipeline(m, 'set').stages.map((s) => s.id),
      [
        '803eaea0dd3af361c7400e95df09e2f1c8fc47da7ff77b8b85049b329cc16bfa',
        '7578132e9b847920e227370fb3d743c2f8f5a80ad168af9bc0c4b5c3f1d11bd3',
      ],
    );
  });

  it('is a pipeline property: a pipeline built by one with an epoch has its own', () => {
    const built = pipeline(m, 'built');
    assert.equal(built.build, '7578132e9b847920e227370fb3d743c2f8f5a80ad168af9bc0c4b5c3f1d11bd3');
    assert.equal(built.sourceEpoch, 1700000000);
    assert.equal(built.id, '12b0d265bf9a72f95a3392476750f214f8db532f2da42d0e0efd1b1819c2b12b');
  });
});

describe('build pipelines and odd references', () => {
  const m = load(cases.BUILDS.manifest);

  it('gives a pipeline without stages no id, and a pipeline it builds no build id', () => {
    assert.equal(pipeline(m, 'empty').id, null);
    assert.equal(pipeline(m, 'built-by-empty').build, null);
    assert.equal(pipeline(m, 'built-by-empty').id, NOOP);
  });

  it('hashes a reference to a pipeline without stages as null', () => {
    assert.deepEqual([...(stage(m, 'refers-to-empty').inputs.get('t')?.refs.keys() ?? [])], ['null']);
    assert.equal(
      stage(m, 'refers-to-empty').id,
      'bac9589fb2e4edc42db08d0cd6a71059bab6b5e3745c1247e24db89e7414b1ab',
    );
  });

  it('merges repeated references by name first, then by the id two names share', () => {
    // name:build appears twice (its last options win); name:built-by-empty has the same id, and
    // comes later, so its empty options are the ones that stay.
    assert.deepEqual([...(stage(m, 'repeated-ref').inputs.get('t')?.refs ?? [])], [[NOOP, {}]]);
    assert.equal(
      stage(m, 'repeated-ref').id,
      '86d650826275117b8e05f10c20816812e625255104aebf143a9f387f7539eccb',
    );
  });

  it('treats null reference options as {} and keeps string options', () => {
    assert.deepEqual(stageIds(m, ['null-ref-options', 'string-ref-options']), {
      'null-ref-options': '30b5b15ca33f324f372b41ad36b45ca2f7776a94649b872b29a7f72e1159cc48',
      'string-ref-options': '5959237cc214cdbc8db19fba564ddfe82c0765acc5a5555e15a7efdce0e96b18',
    });
  });
});
