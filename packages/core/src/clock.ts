/**
 * Where core reads the current time. SQL never calls `now()`: the time is a bound parameter
 * taken from here, so tests can drive time without sleeping.
 *
 * @example
 * const core = createCore({ storage, clock: new ManualClock('2026-01-01T00:00:00Z') });
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = {
  now: () => new Date(),
};
