/**
 * Named (prepared) statements for PGlite. PGlite's own `query` sends every statement as the
 * unnamed statement: PostgreSQL parses, analyses and plans it again on every call, and PGlite
 * makes five calls into the WASM module to run it. Planning is most of the cost of our larger
 * statements there (a task claim: ~1.3 ms to plan, ~0.35 ms to run).
 *
 * {@link withNamedStatements} gives drizzle a PGlite whose `query` (also inside transactions)
 * parses each distinct SQL text once, as a named statement, remembers its parameter types, and
 * from then on sends Bind, Describe, Execute and Sync in one call into the module. PostgreSQL's plan cache then
 * does what it does for any prepared statement: custom plans first, a generic plan once it is
 * no worse, re-planning after schema changes. The statements of one PGlite live as long as it
 * does; the least recently used are closed beyond {@link DEFAULT_CAPACITY} distinct texts (the
 * document queries' SQL follows their filters, so the texts are not a fixed set).
 *
 * @example
 * const db = drizzle(withNamedStatements(await PGlite.create()));
 */
import { type PGlite, parse, protocol, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite';

/** Distinct SQL texts kept prepared per PGlite instance. */
export const DEFAULT_CAPACITY = 256;

type BackendMessages = Awaited<ReturnType<PGlite['execProtocolStream']>>;

interface NamedStatement {
  name: string;
  /** The type OID of each parameter, as PostgreSQL inferred it. */
  parameterTypes: number[];
}

type Query = <T>(text: string, params?: unknown[], options?: QueryOptions) => Promise<Results<T>>;

/** `pg` with prepared statements behind `query` and `transaction(tx => tx.query(…))`; everything else is `pg`'s own. */
export function withNamedStatements(pg: PGlite, capacity = DEFAULT_CAPACITY): PGlite {
  const statements = new NamedStatements(pg, capacity);
  const query: Query = async (text, params, options) => {
    if (options?.blob) return pg.query(text, params, options);
    await pg._checkReady();
    return pg._runExclusiveTransaction(() => statements.run(text, params ?? [], options));
  };
  const transaction = <T>(callback: (tx: Transaction) => Promise<T>) =>
    pg.transaction((tx) => callback(withPreparedQuery(tx, statements)));
  return new Proxy(pg, {
    get(target, property) {
      if (property === 'query') return query;
      if (property === 'transaction') return transaction;
      // PGlite keeps its state in private fields: its methods must run on the instance itself.
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function withPreparedQuery(tx: Transaction, statements: NamedStatements): Transaction {
  const query: Query = async (text, params, options) => {
    if (options?.blob) return tx.query(text, params, options);
    if (tx.closed) throw new Error('Transaction is closed');
    return statements.run(text, params ?? [], options);
  };
  return new Proxy(tx, {
    get: (target, property) => (property === 'query' ? query : Reflect.get(target, property, target)),
  });
}

class NamedStatements {
  /** By SQL text, least recently used first (a Map iterates in insertion order). */
  private readonly byText = new Map<string, NamedStatement>();
  /** Statements to close with the next call (evicted from `byText`). */
  private closing: string[] = [];
  private counter = 0;

  constructor(
    private readonly pg: PGlite,
    private readonly capacity: number,
  ) {}

  /**
   * Runs `text` like PGlite's `query` would, as a named statement. The caller holds the
   * transaction lock. A statement whose result columns changed since it was prepared (a table
   * altered under `SELECT *`), or that was deallocated behind our back, is prepared again;
   * outside a transaction it is also retried, as the failed attempt did nothing.
   */
  async run<T>(text: string, params: unknown[], options: QueryOptions | undefined): Promise<Results<T>> {
    try {
      return await this.runOnce<T>(text, params, options);
    } catch (error) {
      if (!isStaleStatement(error)) throw error;
      this.forget(text);
      if (this.pg.isInTransaction()) throw error;
      return this.runOnce<T>(text, params, options);
    }
  }

  private runOnce<T>(text: string, params: unknown[], options: QueryOptions | undefined): Promise<Results<T>> {
    return this.pg._runExclusiveQuery(async () => {
      let messages: BackendMessages;
      try {
        const statement = this.byText.get(text) ?? (await this.prepare(text, options));
        this.touch(text, statement);
        const values = params.map((value, index) => this.serialized(value, statement.parameterTypes[index], options));
        const closes = this.closing.map((name) => protocol.serialize.close({ type: 'S', name }));
        this.closing = [];
        // One call into PGlite: after an error PostgreSQL skips to the Sync, which is in it.
        messages = await this.send([
          ...closes,
          protocol.serialize.bind({ statement: statement.name, values }),
          protocol.serialize.describe({ type: 'P' }),
          protocol.serialize.execute({}),
          protocol.serialize.sync(),
        ]);
      } catch (error) {
        throw error instanceof protocol.messages.DatabaseError
          ? Object.assign(error, { query: text, params, queryOptions: options })
          : error;
      }
      if (!this.pg.isInTransaction()) await this.pg.syncToFs();
      return parse.parseResults(messages, this.pg.parsers, options)[0] as Results<T>;
    });
  }

  /** Parses `text` under a new name and learns its parameter types. Kept only if both succeed. */
  private async prepare(text: string, options: QueryOptions | undefined): Promise<NamedStatement> {
    const name = `proserver_${++this.counter}`;
    const parsed = protocol.serialize.parse({
      name,
      text,
      ...(options?.paramTypes ? { types: options.paramTypes } : {}),
    });
    const described = await this.send([
      parsed,
      protocol.serialize.describe({ type: 'S', name }),
      protocol.serialize.sync(),
    ]);
    return { name, parameterTypes: parse.parseDescribeStatementResults(described) };
  }

  /** Marks `text` most recently used, evicting the least recently used beyond capacity. */
  private touch(text: string, statement: NamedStatement): void {
    this.byText.delete(text);
    this.byText.set(text, statement);
    if (this.byText.size > this.capacity) this.forget(this.byText.keys().next().value as string);
  }

  /** Drops `text`'s statement; it is closed with the next call (a Close needs no transaction). */
  private forget(text: string): void {
    const statement = this.byText.get(text);
    if (!statement) return;
    this.byText.delete(text);
    this.closing.push(statement.name);
  }

  /** A parameter as PGlite's `query` sends it: null, or text through the serializer of its type. */
  private serialized(value: unknown, type: number | undefined, options: QueryOptions | undefined): string | null {
    if (value === null || value === undefined) return null;
    const serializer = type === undefined ? undefined : (options?.serializers?.[type] ?? this.pg.serializers[type]);
    return serializer ? serializer(value) : String(value);
  }

  /** Sends `messages` in one call; it ends with a Sync, so an error leaves no batch half read. */
  private send(messages: readonly Uint8Array[]): Promise<BackendMessages> {
    return this.pg.execProtocolStream(concat(messages), { syncToFs: false });
  }
}

/**
 * Errors that mean our statement is no longer usable as prepared: its result row type changed
 * (SQLSTATE 0A000), or somebody ran `DEALLOCATE` (26000). Both are fixed by preparing it again.
 */
function isStaleStatement(error: unknown): boolean {
  if (!(error instanceof protocol.messages.DatabaseError)) return false;
  if (error.code === '26000') return true;
  return error.code === '0A000' && error.message.includes('cached plan must not change result type');
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}
