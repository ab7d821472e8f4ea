import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A server-chosen document id: 10 characters of millisecond time then 12 random ones
 * (Crockford base32, 60 random bits), so ids created later list later within a collection.
 *
 * @example
 * newDocumentId(new Date()); // '01JD3X5K7Q8M2RZ4TB9CWE1V0N'
 */
export function newDocumentId(now: Date): string {
  let time = '';
  let rest = now.getTime();
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  const random = [...randomBytes(12)].map((byte) => CROCKFORD[byte % 32]).join('');
  return `${time}${random}`;
}
