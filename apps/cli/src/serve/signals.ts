/**
 * Waiting for the signal that stops a long-running verb. The first one resolves; one more while the
 * verb shuts down calls `again` (which normally exits at once).
 */
export function waitForSignal(signals: NodeJS.Signals[], again: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: NodeJS.Signals) => {
      if (seen) {
        again();
        return;
      }
      seen = true;
      resolve(signal);
    };
    for (const s of signals) process.on(s, handler);
  });
}

/**
 * After a long-running verb has closed everything it opened: exit as soon as its exit code is set
 * instead of when the event loop is empty. A library can hold a timer or a socket for a while after
 * its close (BullMQ's event stream keeps its read's 11 s watchdog, a connection to a Redis that
 * hangs waits for an answer to its goodbye). The exit code is `process.exitCode`, which the entry
 * point sets from what the verb returns before this runs.
 */
export function exitOnceStopped(): void {
  setImmediate(() => process.exit());
}
