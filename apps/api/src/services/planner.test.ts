import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostDebianProblem } from '@debian-forge/apt';
import { validateBlueprint } from '@debian-forge/blueprint';
import { resolveComposeTarget } from '@debian-forge/composer';
import { openStore } from '@debian-forge/store';
import { aptPlanner } from './planner.ts';

test("the service's planner: a build pipeline every other names, none with hostBuildRoot", {
  skip: hostDebianProblem(),
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-planner-'));
  const stateDir = process.env.FORGE_TEST_STATE_DIR || dir;
  const store = openStore(join(dir, 'state.sqlite'));
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const target = resolveComposeTarget({ blueprint: validateBlueprint({ name: 'p' }), imageType: 'tar' });
  const pipelines = async (options?: { hostBuildRoot?: boolean }) =>
    (await aptPlanner(stateDir, store, options)(target)).manifest.pipelines.map((p) => [p.name, p.build]);
  assert.deepEqual(await pipelines(), [
    ['build', undefined],
    ['os', 'name:build'],
    ['archive', 'name:build'],
  ]);
  assert.deepEqual(await pipelines({ hostBuildRoot: true }), [
    ['os', undefined],
    ['archive', undefined],
  ]);
});
