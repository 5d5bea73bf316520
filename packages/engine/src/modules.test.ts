/**
 * A host module is one file named after its type: each `<class>/org.osbuild.*.ts` exports the module
 * of that type, and the class's table holds exactly those, so a type is found from its name and a new
 * file without its table entry (or an entry without its file) fails here.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEVICE_TYPES } from './devices/index.ts';
import { INPUT_TYPES } from './inputs/index.ts';
import { MOUNT_TYPES } from './mounts/index.ts';
import { SOURCE_TYPES } from './sources/index.ts';

const TABLES: Record<string, ReadonlyMap<string, { type: string }>> = {
  devices: DEVICE_TYPES,
  inputs: INPUT_TYPES,
  mounts: MOUNT_TYPES,
  sources: SOURCE_TYPES,
};

describe('host modules', () => {
  for (const [folder, table] of Object.entries(TABLES)) {
    it(`${folder}: one file per type, named after it, and the table holds each`, async () => {
      const dir = join(import.meta.dirname, folder);
      const files = readdirSync(dir).filter(
        (f) => /^org\.osbuild\..+\.ts$/.test(f) && !f.endsWith('.test.ts'),
      );
      const types = files.map((f) => f.slice(0, -'.ts'.length)).sort();
      assert.deepEqual([...table.keys()].sort(), types);
      for (const file of files) {
        const module = ((await import(join(dir, file))) as { default: { type: string } }).default;
        assert.equal(module.type, file.slice(0, -'.ts'.length), file);
        assert.equal(table.get(module.type), module, file);
      }
    });
  }
});
