/** The web UI's compose calls: the event-stream parser and the start dialog's error mapping. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiFailure } from '../apps/web/src/api/client.ts';
import { type ComposeView, downloadName, fieldOfFailure, takesOstree } from '../apps/web/src/api/composes.ts';
import { eventParser, type ServerEvent } from '../apps/web/src/api/sse.ts';

const parse = (...pieces: string[]): ServerEvent[] => {
  const events: ServerEvent[] = [];
  const parser = eventParser((e) => events.push(e));
  for (const p of pieces) parser.push(p);
  return events;
};

test('the event-stream parser: events split anywhere, CRLF, comments, multi-line data, ids', () => {
  const stream =
    ': forge events\n\nid: 1\nevent: state\ndata: {"state":"QUEUED"}\n\n: heartbeat\n\nevent: log\ndata: a\ndata: b\n\n';
  const whole = parse(stream);
  assert.deepEqual(whole, [
    { event: 'state', data: '{"state":"QUEUED"}', id: '1' },
    { event: 'log', data: 'a\nb', id: '1' },
  ]);
  // Cut at every position: the same events.
  for (let i = 1; i < stream.length; i++)
    assert.deepEqual(parse(stream.slice(0, i), stream.slice(i)), whole, `cut at ${i}`);
  assert.deepEqual(
    parse('data: x\r', '\n\r\n'),
    [{ event: 'message', data: 'x' }],
    'CRLF split between pieces',
  );
  assert.deepEqual(
    parse('data:x\rdata\r\r', ': next'),
    [{ event: 'message', data: 'x\n' }],
    'CR alone, a field with no colon',
  );
  assert.deepEqual(parse('event: state\n\n'), [], 'an event without data is none');
  assert.deepEqual(parse('data: never ended'), [], 'an unfinished event is not given out');
});

test('a refusal of compose start lands on the field it is about', () => {
  const field = (id: string, msg: string) => fieldOfFailure(new ApiFailure(400, id, msg));
  assert.equal(field('UnknownBlueprint', 'Unknown blueprint name: x'), 'blueprint');
  assert.equal(field('DistroError', 'Unknown distribution: x for arch y'), 'distro');
  assert.equal(field('OSTreeOptionsError', "invalid ostree ref 'a b'"), 'ref');
  assert.equal(field('OSTreeOptionsError', "ostree parent 'zz' is not a commit checksum"), 'parent');
  assert.equal(field('OSTreeOptionsError', "ostree url 'ftp:x' is not an http(s) or file URL"), 'url');
  assert.equal(field('OSTreeOptionsError', 'ostree.url must be a string'), 'url');
  assert.equal(
    field('ComposeError', 'Failed to get compose type "x": invalid image type: x'),
    'compose_type',
  );
  assert.equal(field('ComposeError', 'size must be a whole number of bytes, got -1'), 'size');
  assert.equal(field('DepsolveError', 'package nope not found'), undefined);
  assert.ok(takesOstree('debian-atomic-commit') && takesOstree('debian-atomic-qcow2'));
  assert.ok(!takesOstree('tar') && !takesOstree('qcow2'));
  const view = { id: 'u', artifacts: [{ filename: 'root.tar', size: 1, sha256: '' }] } as ComposeView;
  assert.equal(downloadName(view, 'image'), 'u-root.tar');
  assert.equal(downloadName(view, 'logs'), 'u-logs.tar');
  assert.equal(downloadName({ ...view, artifacts: [] }, 'image'), 'u-image.tar');
});
