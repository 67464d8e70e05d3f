/**
 * Calls `fn` at most `hz` times a second: a call inside the gap schedules one trailing call, so
 * the last state always gets out; `now()` calls at once (state changes a person must see).
 */
export class Throttle {
  private last = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hz: number,
    private readonly fn: () => void,
  ) {}

  soon(): void {
    const gap = 1000 / this.hz;
    const wait = gap - (Date.now() - this.last);
    if (wait <= 0) return this.now();
    this.timer ??= setTimeout(() => this.now(), wait);
  }

  now(): void {
    this.cancel();
    this.last = Date.now();
    this.fn();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
