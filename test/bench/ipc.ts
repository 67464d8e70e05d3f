/**
 * The messages between bench.ts and the child processes it forks, and the child-side helpers.
 * Every child measures itself: at the end it sends its own process.resourceUsage() (peak RSS,
 * CPU) over the IPC channel, because node cannot read the rusage of a child it spawned.
 */

/** One process's own account of what it cost. */
export interface Usage {
  /** Peak resident set size in KiB (resourceUsage().maxRSS). */
  maxRssKiB: number;
  /** resourceUsage().userCPUTime and systemCPUTime, in microseconds. */
  userUs: number;
  systemUs: number;
  /** Minor page faults (fresh memory touched): a sign of buffers allocated and freed per block. */
  minorFaults: number;
  /** process.cpuUsage() at the same moment, as a cross-check (also microseconds). */
  cpu: { user: number; system: number };
}

export type ChildMessage =
  /** Set up and waiting (a listener reports its port). */
  | { type: 'ready'; port?: number }
  /** The measured work is over; `ok` false with a reason when it failed. */
  | { type: 'done'; ok: boolean; detail?: string; seconds?: number; sockets?: number }
  /** The serving side saw a transfer end (Ferry server only). */
  | { type: 'transfer'; state: string; filesLanded: number; error?: string }
  /** Sent last, just before the child exits. */
  | { type: 'usage'; usage: Usage };

export type ParentMessage = { type: 'go' } | { type: 'stop' };

export function usageNow(): Usage {
  const ru = process.resourceUsage();
  const cpu = process.cpuUsage();
  return {
    maxRssKiB: ru.maxRSS,
    userUs: ru.userCPUTime,
    systemUs: ru.systemCPUTime,
    minorFaults: ru.minorPageFault,
    cpu,
  };
}

/** Send one message to the parent; resolves once it is handed to the channel. */
export function tell(m: ChildMessage): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('This script is a child of test/bench/bench.js (it needs an IPC channel)');
  return new Promise((resolve, reject) => {
    send(m, undefined, undefined, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

/** Resolves when the parent sends a message of this type. */
export function fromParent(type: ParentMessage['type']): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: ParentMessage): void => {
      if (m?.type !== type) return;
      process.off('message', on);
      resolve();
    };
    process.on('message', on);
  });
}

/** Report this process's usage, then exit (after the message left, so it is not lost). */
export async function finish(code = 0): Promise<never> {
  await tell({ type: 'usage', usage: usageNow() }).catch(() => undefined);
  process.exit(code);
}

/** A child whose parent went away has nothing left to do. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(3));
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return `${(err as { code?: string }).code ?? err.name}: ${err.message}`;
  return String(err);
}
