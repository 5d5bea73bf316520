/**
 * One compose, live (`#/composes/<uuid>`): its Forge view, then the event stream for it, which
 * opens with the current state and ends after the end state: the state, the pipeline and stage in
 * progress (n of m, a bar) and the log as it comes, kept to the last LOG_LINES lines. A stream that
 * drops while the compose runs is opened once more. Downloads of the image, log and metadata.
 */
import {
  Alert,
  Button,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  PageSection,
  Progress,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { messageOf } from '../../api/client.ts';
import {
  type Progress as ComposeProgress,
  type ComposeState,
  composeLog,
  composeView,
  type DownloadKind,
  downloadName,
  downloadPath,
  eventsPath,
} from '../../api/composes.ts';
import { eventParser, type ServerEvent } from '../../api/sse.ts';
import { useApi } from '../../app/context.tsx';
import { href } from '../../app/route.ts';
import { useLoad } from '../../app/use-load.ts';
import { saveBlob } from './save.ts';
import { isEnded, StatusLabel, timeOf, weldrStatusOf } from './state.tsx';

export const LOG_LINES = 5000;
const DOWNLOADS: readonly [DownloadKind, string][] = [
  ['image', 'Download image'],
  ['logs', 'Download logs'],
  ['metadata', 'Download metadata'],
];
const FLUSH_MS = 100;

/** The pipeline and stage a progress message names (the worker writes "pipeline P: stage n of m (S)"). */
function stepOf(progress: ComposeProgress): { pipeline?: string; stage?: string } {
  const m = /^pipeline ([^:]+): (?:stage \d+ of \d+ \((.+)\)|.*)$/.exec(progress.message ?? '');
  return m ? { pipeline: m[1], ...(m[2] ? { stage: m[2] } : {}) } : {};
}

/** The log lines, appended in batches (a build writes many lines a second) and capped. */
function useLog() {
  const [lines, setLines] = useState<readonly string[]>([]);
  const pending = useRef<string[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const flush = useCallback(() => {
    timer.current = undefined;
    const add = pending.current;
    pending.current = [];
    setLines((old) => {
      const all = old.concat(add);
      return all.length > LOG_LINES ? all.slice(all.length - LOG_LINES) : all;
    });
  }, []);
  const append = useCallback(
    (more: readonly string[]) => {
      pending.current.push(...more);
      timer.current ??= setTimeout(flush, FLUSH_MS);
    },
    [flush],
  );
  useEffect(() => () => clearTimeout(timer.current), []);
  return { lines, append };
}

export function ComposeLive({ uuid }: { uuid: string }) {
  const api = useApi();
  const view = useLoad(() => composeView(api, uuid), [api, uuid]);
  const [state, setState] = useState<ComposeState | undefined>(undefined);
  const [progress, setProgress] = useState<ComposeProgress | null>(null);
  const [streamError, setStreamError] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const { lines, append } = useLog();
  const shownState = state ?? view.data?.state;
  // The state the page opened on decides how the compose is followed, once: the reload at the
  // stream's end must not follow it again (nor read its log twice).
  const opened = useRef<ComposeState | undefined>(undefined);
  opened.current ??= view.data?.state;
  const firstState = opened.current;
  const { reload } = view;

  // Follow the compose: the stream opens with its state; an ended compose's log is read at once.
  useEffect(() => {
    if (firstState === undefined) return;
    const abort = new AbortController();
    if (isEnded(firstState)) {
      composeLog(api, uuid).then(
        (text) => append(text.split('\n').filter((l) => l !== '')),
        () => {}, // a compose with no log shows none
      );
      return () => abort.abort();
    }
    let latest: ComposeState = firstState;
    const onEvent = (ev: ServerEvent) => {
      let data: { state?: ComposeState; line?: string } & ComposeProgress;
      try {
        data = JSON.parse(ev.data);
      } catch {
        return; // not an event of this service's; the next one is read as usual
      }
      if (ev.event === 'state' && data.state) {
        latest = data.state;
        setState(data.state);
        if (data.state !== 'BUILDING') setProgress(null);
      } else if (ev.event === 'progress')
        setProgress({
          done: data.done,
          total: data.total,
          ...(data.message ? { message: data.message } : {}),
        });
      else if (ev.event === 'log' && typeof data.line === 'string') append([data.line]);
    };
    const follow = async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          // A parser per stream: a dropped one may have left half an event behind.
          const parser = eventParser(onEvent);
          await api.transport.stream(eventsPath(uuid), (text) => parser.push(text), abort.signal);
          if (abort.signal.aborted || isEnded(latest)) break;
        } catch (err) {
          if (abort.signal.aborted) return;
          if (attempt === 1) setStreamError(messageOf(err));
        }
      }
      if (abort.signal.aborted) return;
      if (!isEnded(latest)) setStreamError((e) => e ?? 'the event stream ended before the compose did');
      reload();
    };
    void follow();
    return () => abort.abort();
  }, [api, uuid, firstState, append, reload]);

  useEffect(() => {
    if (view.data?.progress) setProgress((p) => p ?? view.data?.progress ?? null);
  }, [view.data]);

  // Keep the newest line in sight unless the reader scrolled up.
  const logBox = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs after each change of the lines shown
  useLayoutEffect(() => {
    const box = logBox.current;
    if (box && stick.current) box.scrollTop = box.scrollHeight;
  }, [lines]);

  const download = async (kind: DownloadKind) => {
    if (!view.data) return;
    setDownloadError(null);
    try {
      saveBlob(await api.transport.download(downloadPath(uuid, kind)), downloadName(view.data, kind));
    } catch (err) {
      setDownloadError(`Downloading the ${kind} failed: ${messageOf(err)}`);
    }
  };

  const v = view.data;
  const step = progress ? stepOf(progress) : {};
  return (
    <PageSection>
      <Title headingLevel="h2">Compose {uuid}</Title>
      <a href={href('composes')}>All composes</a>
      {view.error !== undefined && <Alert variant="danger" isInline title={messageOf(view.error)} />}
      {streamError && <Alert variant="warning" isInline title={`Live updates stopped: ${streamError}`} />}
      {downloadError && <Alert variant="danger" isInline title={downloadError} />}
      {v && shownState && (
        <>
          <DescriptionList isHorizontal isCompact columnModifier={{ default: '2Col' }}>
            <DescriptionListGroup>
              <DescriptionListTerm>State</DescriptionListTerm>
              <DescriptionListDescription aria-label="Compose state">
                <StatusLabel status={weldrStatusOf(shownState)} state={shownState} />
              </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Blueprint</DescriptionListTerm>
              <DescriptionListDescription>
                {v.blueprint ? `${v.blueprint.name} ${v.blueprint.version}` : '(a manifest)'}
              </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Image type</DescriptionListTerm>
              <DescriptionListDescription>{v.image_type}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Priority</DescriptionListTerm>
              <DescriptionListDescription>{v.priority}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Queued</DescriptionListTerm>
              <DescriptionListDescription>{timeOf(v.created_at)}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Started</DescriptionListTerm>
              <DescriptionListDescription>{timeOf(v.started_at)}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Finished</DescriptionListTerm>
              <DescriptionListDescription>{timeOf(v.finished_at)}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Worker</DescriptionListTerm>
              <DescriptionListDescription>{v.worker ?? ''}</DescriptionListDescription>
            </DescriptionListGroup>
          </DescriptionList>
          {v.error && isEnded(shownState) && (
            <Alert variant="danger" isInline title={`${v.error.message} (${v.error.code})`} />
          )}
          {progress && shownState === 'BUILDING' && (
            <div style={{ marginBlock: 'var(--pf-t--global--spacer--md)' }}>
              <Progress
                title={
                  step.pipeline
                    ? `pipeline ${step.pipeline}${step.stage ? `: ${step.stage}` : ''}`
                    : 'building'
                }
                value={progress.total > 0 ? (100 * progress.done) / progress.total : 0}
                label={`${progress.done} of ${progress.total}`}
                valueText={`${progress.done} of ${progress.total} stages`}
              />
            </div>
          )}
          <Toolbar>
            <ToolbarContent>
              {DOWNLOADS.map(([kind, label]) => (
                <ToolbarItem key={kind}>
                  <Button
                    variant="secondary"
                    isDisabled={
                      kind === 'image'
                        ? shownState !== 'COMPLETED' || v.artifacts.length === 0
                        : !isEnded(shownState)
                    }
                    onClick={() => download(kind)}
                  >
                    {label}
                  </Button>
                </ToolbarItem>
              ))}
            </ToolbarContent>
          </Toolbar>
        </>
      )}
      <Title headingLevel="h3">Log</Title>
      <div
        ref={logBox}
        role="log"
        aria-label="Compose log"
        // A scrolling region is reachable by keyboard so it can be scrolled without a mouse.
        // biome-ignore lint/a11y/noNoninteractiveTabindex: see above
        tabIndex={0}
        onScroll={(e) => {
          const box = e.currentTarget;
          stick.current = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
        }}
        style={{
          maxHeight: '24rem',
          overflow: 'auto',
          background: 'var(--pf-t--global--background--color--secondary--default)',
          padding: '0.5rem',
        }}
      >
        <pre style={{ fontSize: 'var(--pf-t--global--font--size--body--sm)' }}>{lines.join('\n')}</pre>
      </div>
    </PageSection>
  );
}
