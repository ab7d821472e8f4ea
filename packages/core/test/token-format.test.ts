import { describe, expect, it } from 'vitest';
import {
  crc32,
  generateTokenSecret,
  hashTokenSecret,
  hasValidChecksum,
  last4,
  TOKEN_SECRET_LENGTH,
} from '../src/auth/token-format.js';
import { bootstrapTokenSchema } from '../src/auth/validation.js';

describe('token secrets', () => {
  it('have the prs_ prefix, 30 random and 6 checksum base62 characters', () => {
    const secret = generateTokenSecret();
    expect(secret).toMatch(/^prs_[0-9A-Za-z]{36}$/);
    expect(secret).toHaveLength(TOKEN_SECRET_LENGTH);
    expect(hasValidChecksum(secret)).toBe(true);
  });

  it('are different every time and use the whole alphabet', () => {
    const secrets = Array.from({ length: 2000 }, generateTokenSecret);
    expect(new Set(secrets).size).toBe(secrets.length);
    const seen = new Set(secrets.flatMap((s) => [...s.slice(4, 34)]));
    expect(seen.size).toBe(62);
  });

  it('computes the standard CRC-32', () => {
    expect(crc32('')).toBe(0);
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('The quick brown fox jumps over the lazy dog')).toBe(0x414fa339);
  });

  it('rejects every one-character typo in the random part or the checksum', () => {
    const secret = generateTokenSecret();
    for (let at = 4; at < secret.length; at++) {
      const original = secret[at] as string;
      const replacement = original === 'x' ? 'y' : 'x';
      const typo = `${secret.slice(0, at)}${replacement}${secret.slice(at + 1)}`;
      expect(hasValidChecksum(typo), `typo at ${at}`).toBe(false);
    }
  });

  it('rejects wrong length, prefix and characters', () => {
    const secret = generateTokenSecret();
    expect(hasValidChecksum(secret.slice(0, -1))).toBe(false);
    expect(hasValidChecksum(`${secret}0`)).toBe(false);
    expect(hasValidChecksum(`prx_${secret.slice(4)}`)).toBe(false);
    expect(hasValidChecksum(`${secret.slice(0, 10)}-${secret.slice(11)}`)).toBe(false);
    expect(hasValidChecksum('')).toBe(false);
  });

  it('hashes with SHA-256 hex and shows the last four characters', () => {
    expect(hashTokenSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(last4('prs_abcdWXYZ')).toBe('WXYZ');
  });
});

describe('bootstrapTokenSchema', () => {
  it('accepts a generated secret or a foreign 32..512 character visible ASCII string', () => {
    expect(bootstrapTokenSchema.safeParse(generateTokenSecret()).success).toBe(true);
    expect(bootstrapTokenSchema.safeParse('x'.repeat(32)).success).toBe(true);
    expect(bootstrapTokenSchema.safeParse('!~'.repeat(256)).success).toBe(true);
  });

  it('rejects short, long, non-ASCII, spaced and prs_ strings with a bad checksum', () => {
    const secret = generateTokenSecret();
    const garbled = `${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`;
    for (const bad of ['x'.repeat(31), 'x'.repeat(513), 'é'.repeat(32), `${'x'.repeat(32)} y`, garbled, 42]) {
      expect(bootstrapTokenSchema.safeParse(bad).success, String(bad)).toBe(false);
    }
  });
});
