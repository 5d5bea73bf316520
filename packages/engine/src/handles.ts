/**
 * Opening a stage's resources (devices, mounts) all or none, and closing them in reverse order
 * however the stage ended: every handle gets its close(), errors are logged, the first is thrown.
 */
export interface Closable {
  name: string;
  close(): Promise<void>;
}

/** Opens each item in order; if one fails, closes those already open and rethrows. */
export async function openInOrder<T, H extends Closable>(
  items: Map<string, T>,
  open: (name: string, item: T, opened: ReadonlyMap<string, H>) => Promise<H>,
  log: (line: string) => void,
  what: string,
): Promise<Map<string, H>> {
  const opened = new Map<string, H>();
  try {
    for (const [name, item] of items) opened.set(name, await open(name, item, opened));
  } catch (error) {
    await closeInReverse(opened, log, what);
    throw error;
  }
  return opened;
}

/** Closes handles in reverse order; errors are logged, and the first one is thrown at the end. */
export async function closeInReverse(
  handles: Map<string, Closable>,
  log: (line: string) => void,
  what: string,
): Promise<void> {
  let first: unknown;
  for (const handle of [...handles.values()].reverse()) {
    try {
      await handle.close();
    } catch (e) {
      log(`could not close ${what} ${handle.name}: ${e instanceof Error ? e.message : String(e)}`);
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
