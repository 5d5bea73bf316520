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
