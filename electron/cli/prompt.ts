/**
 * Yes/no questions on stderr, answered by lines on stdin, one question at a time: `ferry serve`
 * asks whether to pair with a device, or to accept an upload, while it goes on serving others.
 *
 * An answer only counts for the question on screen: a line that arrives while no question is
 * shown is thrown away, so a "y" typed (or piped) ahead can never approve a request nobody has
 * seen yet. A question can be withdrawn (the peer gave up, the time ran out); the next one is
 * then shown. At the end of stdin every question still open, and every later one, is answered
 * "closed" (and the caller declines).
 *
 * When to start reading: a pipe can be read from the start (start()), so that what arrives
 * before a question is read and dropped then. A terminal is read only from the first question
 * on: a process in the background (`ferry serve &`) that reads its terminal is stopped by the
 * shell (SIGTTIN), which must not happen to a server that has nothing to ask. What was typed
 * before that first question then arrives all at once when reading starts; lines that arrive
 * within SETTLE_MS of the start are dropped for that reason (nobody reads a question and
 * answers it that fast).
 */
import * as readline from 'node:readline';

export type Answer = 'yes' | 'no' | 'withdrawn' | 'closed';

/** Lines that arrive this soon after reading starts were typed before anything was asked. */
export const SETTLE_MS = 150;

interface Pending {
  text: string;
  shown: boolean;
  resolve: (a: Answer) => void;
}

export class Prompter {
  private rl: readline.Interface | undefined;
  private readonly queue: Pending[] = [];
  private eof = false;
  private startedAt = 0;

  /**
   * @param input where the answers come from (process.stdin)
   * @param terminal true when a person types the answers: the question then ends with a space
   *   and the cursor waits after it; otherwise (a pipe) every question is a whole line.
   * @param write where questions go (stderr: stdout carries results only)
   */
  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly terminal: boolean,
    private readonly write: (text: string) => void = (t) => void process.stderr.write(t),
  ) {}

  /**
   * Ask `text` (shown once the questions before it are answered). Resolves 'yes' for a line that
   * reads y or yes (any case), 'no' for any other line, 'withdrawn' when `withdraw` settles first,
   * 'closed' when stdin ends.
   */
  ask(text: string, withdraw?: Promise<unknown>): Promise<Answer> {
    if (this.eof) return Promise.resolve('closed');
    this.start();
    return new Promise<Answer>((resolve) => {
      const p: Pending = { text, shown: false, resolve };
      this.queue.push(p);
      withdraw?.then(
        () => this.withdraw(p),
        () => this.withdraw(p),
      );
      this.showHead();
    });
  }

  /** Stop reading stdin; open questions are answered 'closed'. */
  close(): void {
    this.rl?.close();
    this.endAll();
  }

  /**
   * Start reading stdin now, before any question: what arrives before a question is shown is
   * read and thrown away then, instead of waiting in the pipe to answer the first question.
   */
  start(): void {
    if (this.rl || this.eof) return;
    this.startedAt = Date.now();
    this.rl = readline.createInterface({ input: this.input, terminal: false, crlfDelay: Infinity });
    this.rl.on('line', (line) => this.onLine(line));
    this.rl.on('close', () => this.endAll());
  }

  private onLine(line: string): void {
    if (Date.now() - this.startedAt < SETTLE_MS) return; // typed before anything was asked
    const head = this.queue[0];
    if (!head?.shown) return; // nobody asked: never an answer to a question not yet on screen
    this.queue.shift();
    head.resolve(/^\s*y(es)?\s*$/i.test(line) ? 'yes' : 'no');
    this.showHead();
  }

  private withdraw(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i < 0) return;
    this.queue.splice(i, 1);
    // End the half line the cursor waits on, so that the caller's note starts a line of its own.
    if (p.shown && this.terminal) this.write('\n');
    p.resolve('withdrawn');
    if (i === 0) this.showHead();
  }

  private showHead(): void {
    const head = this.queue[0];
    if (!head || head.shown) return;
    head.shown = true;
    this.write(this.terminal ? `${head.text} ` : `${head.text}\n`);
  }

  private endAll(): void {
    if (this.eof) return;
    this.eof = true;
    for (const p of this.queue.splice(0)) {
      if (p.shown && this.terminal) this.write('\n');
      p.resolve('closed');
    }
  }
}
