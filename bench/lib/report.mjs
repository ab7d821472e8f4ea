/** Formats the results as a plain-text table and checks the targets. */

/** KV GET throughput as a fraction of the bare hello route on the same server. */
export const TARGETS = { memory: 0.5, postgres: 0.3 };

const COLUMNS = [
  ['backend', 'l'],
  ['case', 'l'],
  ['req/s', 'r'],
  ['p50 ms', 'r'],
  ['p99 ms', 'r'],
  ['failed', 'r'],
];

function pad(text, width, align) {
  return align === 'r' ? text.padStart(width) : text.padEnd(width);
}

function table(rows, columns) {
  const widths = columns.map(([title], i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((cell, i) => pad(cell, widths[i], columns[i][1])).join('  ');
  return [line(columns.map(([title]) => title)), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join(
    '\n',
  );
}

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/**
 * `results`: [{backend, error?, cases: {hello, get, put}}]. Answers the report text and
 * whether every backend ran without failed requests.
 */
export function formatReport(results, settings) {
  const rows = [];
  for (const { backend, error, cases } of results) {
    if (error) {
      rows.push([backend, `not run: ${error}`, '', '', '', '']);
      continue;
    }
    for (const [name, label] of [
      ['hello', 'hello (bare Hono)'],
      ['get', 'kv GET'],
      ['put', 'kv PUT'],
    ]) {
      const r = cases[name];
      rows.push([backend, label, fixed(r.rps, 0), fixed(r.p50, 2), fixed(r.p99, 2), String(r.failed)]);
    }
  }

  const targetRows = [];
  for (const { backend, error, cases } of results) {
    const target = TARGETS[backend];
    const ratio = error ? Number.NaN : cases.get.rps / cases.hello.rps;
    const verdict = error ? 'not measured' : target === undefined ? 'no target' : ratio >= target ? 'met' : 'NOT met';
    targetRows.push([
      backend,
      fixed(ratio * 100, 1),
      target === undefined ? '-' : `>= ${(target * 100).toFixed(0)}`,
      verdict,
    ]);
  }

  const header =
    `ProServer benchmark: ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ` +
    `${settings.durationSeconds} s per case, server in a child process on 127.0.0.1, Node ${process.version}`;
  const text = [
    header,
    '',
    table(rows, COLUMNS),
    '',
    'KV GET req/s as % of hello req/s on the same server:',
    table(targetRows, [
      ['backend', 'l'],
      ['GET/hello %', 'r'],
      ['target %', 'r'],
      ['verdict', 'l'],
    ]),
  ].join('\n');
  const clean = results.every((r) => !r.error && Object.values(r.cases).every((c) => c.failed === 0));
  return { text, clean };
}
