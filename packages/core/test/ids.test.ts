import { describe, expect, it } from 'vitest';
import { createIds } from '../src/ids.js';

describe('createIds', () => {
  it('makes unique, time-ordered ids whose random parts differ from one millisecond to the next', () => {
    let ms = Date.UTC(2026, 10, 28);
    const ids = createIds(() => ms++);
    // 1,000 ids span several blocks of random bytes (256 ids' worth each).
    const made = Array.from({ length: 1000 }, () => ids.next('evt'));
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made);
    const randomParts = made.map((id) => id.slice(-16));
    expect(new Set(randomParts).size).toBe(made.length);
    for (const id of made) expect(id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('stays ordered within one millisecond', () => {
    const ids = createIds(() => 1_700_000_000_000);
    const made = Array.from({ length: 500 }, () => ids.next('task'));
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
  });
});
