/**
 * A sorted set of strings (document paths) with range reads: subtrees and collections are
 * contiguous ranges in plain string order, which for ASCII paths is PostgreSQL's `COLLATE "C"`.
 * Inserts splice at the binary-searched place (a memmove, no re-sort).
 *
 * @example
 * const paths = new SortedStrings(); paths.add('a/b'); paths.withPrefix('a/'); // ['a/b']
 */
export class SortedStrings {
  private readonly items: string[] = [];

  add(value: string): void {
    const index = this.lowerBound(value);
    if (this.items[index] !== value) this.items.splice(index, 0, value);
  }

  delete(value: string): void {
    const index = this.lowerBound(value);
    if (this.items[index] === value) this.items.splice(index, 1);
  }

  /** The smallest value >= `from`. */
  firstAtLeast(from: string): string | undefined {
    return this.items[this.lowerBound(from)];
  }

  /** Values in [from, to). */
  range(from: string, to: string): string[] {
    const out: string[] = [];
    for (let i = this.lowerBound(from); i < this.items.length && (this.items[i] as string) < to; i++) {
      out.push(this.items[i] as string);
    }
    return out;
  }

  /** Values starting with `prefix` (non-empty), in order. */
  withPrefix(prefix: string): string[] {
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.range(prefix, end);
  }

  private lowerBound(value: string): number {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.items[mid] as string) < value) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
