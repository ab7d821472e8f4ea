import { randomBytes } from 'node:crypto';

/** The kinds of id the platform hands out; each id starts with its prefix and `_`. */
export type IdPrefix = 'task' | 'whk' | 'dlv' | 'tok' | 'usr' | 'tkt' | 'evt' | 'req';

/**
 * Source of ids. Ids are time-ordered: they sort by creation time as plain strings.
 *
 * @example
 * const ids = createIds(); ids.next('tok'); // 'tok_01JD3…'
 */
export interface Ids {
  next(prefix: IdPrefix): string;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/** Random bytes drawn from the system in blocks: a draw of 16 cost 7–10 µs here, ten times the rest of an id. */
const RANDOM_BLOCK = 4096;
let randomBlock = Buffer.alloc(0);
let randomOffset = 0;

/** 16 random bytes (a view into the current block, read at once). */
function random16(): Buffer {
  if (randomOffset + 16 > randomBlock.length) {
    randomBlock = randomBytes(RANDOM_BLOCK);
    randomOffset = 0;
  }
  randomOffset += 16;
  return randomBlock.subarray(randomOffset - 16, randomOffset);
}

/**
 * ULID-shaped ids (48-bit millisecond time + 80 random bits, Crockford base32), monotonic
 * within one process: two ids made in the same millisecond still sort in creation order.
 */
export function createIds(now: () => number = Date.now): Ids {
  let lastTime = -1;
  let lastRandom: number[] = [];
  return {
    next(prefix) {
      const time = now();
      if (time <= lastTime) {
        incrementRandom(lastRandom);
      } else {
        lastTime = time;
        lastRandom = [...random16()].map((b) => b % 32);
      }
      return `${prefix}_${encodeTime(lastTime)}${lastRandom.map((d) => CROCKFORD[d]).join('')}`;
    },
  };
}

function incrementRandom(digits: number[]): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    const digit = (digits[i] ?? 0) + 1;
    if (digit < 32) {
      digits[i] = digit;
      return;
    }
    digits[i] = 0;
  }
}
