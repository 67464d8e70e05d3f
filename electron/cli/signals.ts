/**
 * For long-running commands (serve, ui): resolves on the first SIGINT or SIGTERM, so the command
 * can close cleanly; a second signal while closing exits at once. Listen before printing the
 * line that says the command is ready: whoever reads it may stop us at once.
 */
export function untilSignal(): Promise<void> {
  let stopping = false;
  return new Promise<void>((resolve) => {
    const onSignal = (): void => {
      if (stopping) process.exit(0);
      stopping = true;
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
