// The one barrier of a run: no host is checked or changed until every host has compiled (or dropped out as
// unreachable). If any host fails to compile, everyone waiting is told not to go on.

export class Barrier {
  private readonly pending: Set<string>;
  private failed = false;
  private readonly waiters: Array<(go: boolean) => void> = [];

  constructor(names: string[]) {
    this.pending = new Set(names);
  }

  /** A host compiled; resolves true when all hosts are through, false if any failed to compile. */
  arrive(name: string): Promise<boolean> {
    const p = new Promise<boolean>((resolve) => this.waiters.push(resolve));
    this.pending.delete(name);
    this.settle();
    return p;
  }

  /** A host dropped out without compiling (unreachable, facts failed); it does not hold the others. */
  leave(name: string): void {
    this.pending.delete(name);
    this.settle();
  }

  /** A host failed to compile: the whole run stops before any change. */
  fail(name: string): void {
    this.failed = true;
    this.pending.delete(name);
    this.settle();
  }

  private settle(): void {
    if (!this.failed && this.pending.size > 0) return;
    for (const w of this.waiters.splice(0)) w(!this.failed);
  }
}
