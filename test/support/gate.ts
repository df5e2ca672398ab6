/**
 * Holds work back to prove one interleaving of a race: `hold()` says the first holder has
 * arrived (`firstArrived`) and waits until `release()`.
 */
export const createGate = () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
  const hold = async (): Promise<void> => {
    arrived();
    await released;
  };
  return { hold, release, firstArrived };
};
