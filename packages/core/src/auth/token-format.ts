/**
 * The shape of an application-token secret: `prs_` + 30 random base62 characters + 6 base62
 * characters of a CRC32 checksum of the random part (40 characters in all).
 *
 * Why this shape (SPEC §2):
 * - The fixed `prs_` prefix lets secret scanners (GitHub push protection, gitleaks, …) find a
 *   leaked token with one regular expression, and tells a human what the string is.
 * - 30 base62 characters carry ~178 random bits, well above the 128 the SPEC asks for.
 * - The checksum lets the server reject a mistyped or truncated token without a database
 *   lookup, so garbage bearer headers never cost a query; scanners can use it to drop false
 *   positives. It is not a security control: the random part is what makes a token unguessable.
 * Only the SHA-256 of a secret is stored ({@link hashTokenSecret}).
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'prs_';
export const TOKEN_RANDOM_LENGTH = 30;
export const TOKEN_CHECKSUM_LENGTH = 6;
/** Length of every generated secret: prefix + random part + checksum. */
export const TOKEN_SECRET_LENGTH = TOKEN_PREFIX.length + TOKEN_RANDOM_LENGTH + TOKEN_CHECKSUM_LENGTH;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Largest multiple of 62 that fits a byte: bytes at or above it are dropped, so every character is equally likely. */
const UNBIASED_BYTE_LIMIT = 62 * 4;
const BASE62_CHARS = /^[0-9A-Za-z]+$/;

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (IEEE 802.3, the zip/PNG one) of an ASCII string. A tiny table of our own, because
 * `zlib.crc32` is missing from Node releases before 20.15 / 22.2.
 *
 * @example
 * crc32('123456789'); // 0xcbf43926
 */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc = (CRC32_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function checksumOf(randomPart: string): string {
  let rest = crc32(randomPart);
  let out = '';
  for (let i = 0; i < TOKEN_CHECKSUM_LENGTH; i++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= UNBIASED_BYTE_LIMIT) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * A new token secret. Show it to the user once; store only {@link hashTokenSecret} of it.
 *
 * @example
 * const secret = generateTokenSecret(); // 'prs_4fQ…' (40 characters)
 */
export function generateTokenSecret(): string {
  const randomPart = randomBase62(TOKEN_RANDOM_LENGTH);
  return `${TOKEN_PREFIX}${randomPart}${checksumOf(randomPart)}`;
}

/**
 * True when `secret` has the generated shape and its checksum matches: a typo or a
 * truncated copy answers false without any lookup.
 *
 * @example
 * hasValidChecksum(generateTokenSecret()); // true
 */
export function hasValidChecksum(secret: string): boolean {
  if (secret.length !== TOKEN_SECRET_LENGTH || !secret.startsWith(TOKEN_PREFIX)) return false;
  const body = secret.slice(TOKEN_PREFIX.length);
  if (!BASE62_CHARS.test(body)) return false;
  const randomPart = body.slice(0, TOKEN_RANDOM_LENGTH);
  return body.slice(TOKEN_RANDOM_LENGTH) === checksumOf(randomPart);
}

/**
 * SHA-256 (hex) of a secret: the only form in which a secret is stored. A fast hash is
 * enough because the secret has ~178 random bits (no dictionary to attack).
 *
 * @example
 * await store.findTokenBySecretHash(hashTokenSecret(bearer), now);
 */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * The last four characters, shown in lists so a user can tell tokens apart.
 *
 * @example
 * last4('prs_…AbCd'); // 'AbCd'
 */
export function last4(secret: string): string {
  return secret.slice(-4);
}
