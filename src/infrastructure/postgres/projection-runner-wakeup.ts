/**
 * A resettable doorbell: `wait` sleeps until `ring` or the timeout. A ring that comes before
 * the wait (after the last `reset`) is not lost: the wait then returns at once.
 */
export type Wakeup = {
  readonly ring: () => void;
  readonly reset: () => void;
  readonly wait: (ms: number) => Promise<void>;
};

export const createWakeup = (): Wakeup => {
  let rung = false;
  let wake: (() => void) | undefined;
  return {
    ring: () => {
      rung = true;
      wake?.();
    },
    reset: () => {
      rung = false;
    },
    wait: (ms) =>
      rung
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(done, ms);
            function done(): void {
              clearTimeout(timer);
              wake = undefined;
              resolve();
            }
            wake = done;
          }),
  };
};

/** `next` resolves at the following `pulse`, which releases every caller waiting. */
export type Pulse = {
  readonly next: () => Promise<void>;
  readonly pulse: () => void;
};

export const createPulse = (): Pulse => {
  let waiting: Array<() => void> = [];
  return {
    next: () => new Promise<void>((resolve) => waiting.push(resolve)),
    pulse: () => {
      const released = waiting;
      waiting = [];
      released.forEach((resolve) => resolve());
    },
  };
};
