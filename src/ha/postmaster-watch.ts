/**
 * Wakes the loop within ~100 ms of the postmaster dying, so a crash does not wait for loop_wait.
 * `onDeath` runs once per watched pid.
 */
export class PostmasterWatch {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly onDeath: () => void) {}

  watch(pid: number | null): void {
    this.stop();
    if (pid === null) return;
    this.timer = setInterval(() => {
      try { process.kill(pid, 0); } catch {
        this.stop();
        this.onDeath();
      }
    }, 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
