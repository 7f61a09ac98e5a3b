// A counting semaphore: at most `limit` tasks run at once, the rest wait in FIFO order.
// Used to stay under sshd's MaxSessions per connection and to bound hosts worked on at once.

export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`limit must be >= 1, got ${limit}`);
  }

  /** Run `task` once a slot is free; the slot is released however the task ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** From inside run(): give the slot up while waiting for p (on other tasks, say), then take one again. */
  async outside<T>(p: Promise<T>): Promise<T> {
    this.release();
    try {
      return await p;
    } finally {
      await this.acquire();
    }
  }

  private acquire(): Promise<void> {
    if (this.active >= this.limit) return new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    return Promise.resolve();
  }

  private release(): void {
    const next = this.waiting.shift();
    // Hand the slot straight to the next waiter so `active` never over-counts.
    if (next) next();
    else this.active--;
  }
}
