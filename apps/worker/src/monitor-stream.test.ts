import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JSONSeqMonitor } from '@debian-forge/engine';
import { type BuildEvent, MonitorStream } from './monitor-stream.ts';

/** What the engine's own JSONSeqMonitor writes for a source and a two-stage pipeline. */
function engineStream(): string {
  const dir = mkdtempSync(join(tmpdir(), 'forge-monitor-'));
  const file = join(dir, 'seq');
  const fd = openSync(file, 'w');
  try {
    const m = new JSONSeqMonitor(fd, 2);
    m.begin({
      name: 'org.osbuild.inline',
      id: null,
      build: null,
      runner: null,
      sourceEpoch: null,
      stageCount: 0,
      source: true,
    });
    m.log('fetched sha256:ab\n', 'sources/org.osbuild.inline');
    m.result({
      name: 'source org.osbuild.inline',
      source_type: 'org.osbuild.inline',
      success: true,
      output: '',
      results: [],
    });
    m.finish({ name: 'org.osbuild.inline' });
    m.begin({
      name: 'tree',
      id: 'f'.repeat(64),
      build: null,
      runner: 'org.osbuild.linux',
      sourceEpoch: null,
      stageCount: 2,
    });
    m.stage({ type: 'org.osbuild.mkdir', id: 'a'.repeat(64), options: { paths: [] } });
    m.log('made ', 'stages/org.osbuild.mkdir');
    m.log('a dir\nand ', 'stages/org.osbuild.mkdir');
    m.log('another\n', 'stages/org.osbuild.mkdir');
    m.result({
      name: 'org.osbuild.mkdir',
      id: 'a'.repeat(64),
      success: true,
      output: 'made a dir\n',
      error: null,
    });
    m.stage({ type: 'org.forge.test.probe', id: 'b'.repeat(64), options: {} });
    m.log('no newline at the end', 'stages/org.forge.test.probe');
    m.result({ name: 'org.forge.test.probe', id: 'b'.repeat(64), success: false, output: '', error: null });
    m.finish({ name: 'tree' });
  } finally {
    closeSync(fd);
  }
  const text = readFileSync(file, 'utf8');
  rmSync(dir, { recursive: true });
  return text;
}

test('progress (stage n of m) and whole log lines from the engine monitor, however the stream is cut', () => {
  const stream = engineStream();
  let first: BuildEvent[] | undefined;
  for (const size of [stream.length, 1, 7, 64]) {
    const events: BuildEvent[] = [];
    const reader = new MonitorStream((e) => events.push(e));
    for (let i = 0; i < stream.length; i += size) reader.push(stream.slice(i, i + size));
    reader.end();
    if (first) assert.deepEqual(events, first, `chunks of ${size}`);
    else first = events;
  }
  const events = first ?? [];
  const progress = events.filter((e) => e.kind === 'progress');
  assert.deepEqual(
    progress.map((e) => [e.done, e.total]),
    [
      [0, 2],
      [1, 2],
      [1, 2],
      [2, 2],
    ],
  );
  assert.equal(progress[2]?.message, 'pipeline tree: stage 2 of 2 (org.forge.test.probe)');
  const lines = events.flatMap((e) => (e.kind === 'log' ? [e.line] : []));
  assert.deepEqual(lines.slice(0, 4), [
    'Starting pipeline org.osbuild.inline',
    'fetched sha256:ab',
    'source org.osbuild.inline: done',
    'Finished pipeline org.osbuild.inline',
  ]);
  assert.ok(lines.includes('made a dir'));
  assert.ok(lines.includes('and another'));
  // A partial line is given out when the next engine message comes.
  const partial = lines.indexOf('no newline at the end');
  assert.ok(partial > 0);
  assert.match(lines[partial + 1] ?? '', /^org\.forge\.test\.probe: FAILED, \d+\.\d\d s$/);
  assert.equal(lines[lines.length - 1], 'Finished pipeline tree');
});

test('an unreadable record becomes a log line instead of an error', () => {
  const events: BuildEvent[] = [];
  const reader = new MonitorStream((e) => events.push(e));
  reader.push('\x1e{"message": "ok", "context": {"id": "1", "origin": "osbuild.monitor"}}\n\x1e{broken\n');
  reader.end();
  assert.deepEqual(events, [
    { kind: 'log', line: 'ok' },
    { kind: 'log', line: '(unreadable monitor record) {broken' },
  ]);
});
