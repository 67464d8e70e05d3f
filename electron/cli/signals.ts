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

/** The user stopped the command (SIGINT or SIGTERM); main prints `ferry: cancelled`. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super('cancelled');
    this.name = 'Interrupted';
  }
}

/** The shell's convention: 128 + the signal number. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

/**
 * For commands that wait on the network (send, get, pair): the first SIGINT or SIGTERM calls
 * `onFirst` (cancel what runs) and makes every race() reject with Interrupted; a second signal
 * exits at once.
 */
export class Interrupt {
  signal: NodeJS.Signals | undefined;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly onFirst: () => void = () => undefined) {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.signal) process.exit(exitCodeForSignal(signal));
    this.signal = signal;
    this.onFirst();
    for (const wake of this.wakers) wake();
  };

  /** The promise's value, or Interrupted as soon as a signal arrives. */
  race<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.signal) return reject(new Interrupted(this.signal));
      const wake = (): void => reject(new Interrupted(this.signal!));
      this.wakers.add(wake);
      p.then(resolve, reject).finally(() => this.wakers.delete(wake));
    });
  }

  /** Wait `ms`, or less when a signal arrives. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
