/** A clock tests can move; starts at the real time so tokens and TOTP codes line up with libraries. */
export type TestClock = { (): Date; advance: (ms: number) => void; set: (date: Date) => void };

export const createTestClock = (start = new Date()): TestClock => {
  let now = start.getTime();
  const clock = (() => new Date(now)) as TestClock;
  clock.advance = (ms) => void (now += ms);
  clock.set = (date) => void (now = date.getTime());
  return clock;
};

/** The shape the store contract suites take: a fixed start far from the real time, and an awaitable advance. */
export const fakeClock = (start = Date.parse('2030-01-01T00:00:00Z')) => {
  const clock = createTestClock(new Date(start));
  return { now: (): Date => clock(), advance: async (ms: number): Promise<void> => clock.advance(ms) };
};
