/** The tasks bench report: one table per measure, then the targets with verdicts. */

/** Issue 3's targets for ProServer on PostgreSQL. */
export const TARGETS = {
  drainVsGraphile: 1,
  drainVsPgBoss: 5,
  idleP50Ms: 3,
  criticalP99Ms: 50,
  rssDrift: 0.2,
};

function table(rows, columns) {
  const widths = columns.map(([title], i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const pad = (text, i) => (columns[i][1] === 'r' ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (cells) =>
    cells
      .map((cell, i) => pad(cell, i))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([title]) => title)), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join(
    '\n',
  );
}

const fixed = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
/** A latency; Infinity (a sample that never started in time) reads "> limit". */
const ms = (value, limitMs) =>
  value === Number.POSITIVE_INFINITY ? `> ${fixed(limitMs)}` : fixed(value, value < 10 ? 2 : 1);

const verdict = (ok) => (ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met');

function find(runs, scenario, id, variant) {
  return runs.find((r) => r.scenario === scenario && r.id === id && (variant === undefined || r.variant === variant));
}

function drainTable(runs) {
  const rows = runs
    .filter((r) => r.scenario === 'drain')
    .map((r) =>
      r.error
        ? [r.label, `not run: ${r.error}`, '', '', '', '']
        : [
            r.label,
            fixed(r.result.submitPerSecond),
            fixed(r.result.drainSeconds, 2),
            fixed(r.result.tasksPerSecond),
            r.result.cpuMsPerThousand == null ? '-' : fixed(r.result.cpuMsPerThousand),
            fixed(r.result.ownCpuMsPerThousand),
          ],
    );
  return table(rows, [
    ['system', 'l'],
    ['bulk submit/s', 'r'],
    ['drain s', 'r'],
    ['drain tasks/s', 'r'],
    ['CPU ms / 1,000: machine', 'r'],
    ['of it Node.js', 'r'],
  ]);
}

function latencyRow(label, how, s, note = '') {
  return [
    label,
    how,
    `${s.count - s.timedOut}/${s.count}`,
    ms(s.p50, s.limitMs),
    ms(s.p99, s.limitMs),
    ms(s.max, s.limitMs),
    note,
  ];
}

const LATENCY_COLUMNS = [
  ['system', 'l'],
  ['how', 'l'],
  ['started/n', 'r'],
  ['p50 ms', 'r'],
  ['p99 ms', 'r'],
  ['max ms', 'r'],
  ['note', 'l'],
];

function idleTable(runs) {
  const rows = [];
  for (const r of runs.filter((run) => run.scenario === 'idle')) {
    if (r.error) {
      rows.push([r.label, `not run: ${r.error}`, '', '', '', '', '']);
      continue;
    }
    rows.push(latencyRow(r.label, 'same process', r.result.inProcess, r.note ?? ''));
    if (r.result.viaNotify) rows.push(latencyRow(r.label, 'other pool, LISTEN/NOTIFY', r.result.viaNotify));
  }
  return table(rows, LATENCY_COLUMNS);
}

function criticalTable(runs) {
  const rows = runs
    .filter((r) => r.scenario === 'critical')
    .map((r) =>
      r.error
        ? [r.label, r.how, `not run: ${r.error}`, '', '', '', '']
        : latencyRow(
            r.label,
            r.how,
            r.result,
            r.result.preempted === undefined ? (r.note ?? '') : `batch tasks preempted: ${r.result.preempted}`,
          ),
    );
  return table(rows, LATENCY_COLUMNS);
}

function memoryTable(run) {
  if (!run) return '(not run)';
  if (run.error) return `not run: ${run.error}`;
  const { readings, apiReadings, claimRate, submitPerSecond } = run.result;
  const row = (r, base) => [
    r.label,
    fixed(r.rssMb, 1),
    fixed(r.heapUsedMb, 1),
    `${fixed(r.rssChange * 100, 1)} % of ${base}`,
  ];
  const rows = [...readings.map((r) => row(r, 'worker before')), ...apiReadings.map((r) => row(r, 'API before'))];
  return [
    table(rows, [
      ['process: reading (after a full GC)', 'l'],
      ['RSS MB', 'r'],
      ['heap used MB', 'r'],
      ['RSS change', 'r'],
    ]),
    `The backlog was submitted by another process (API node, submitMany × 10,000) at ${fixed(submitPerSecond)} tasks/s.`,
    `No-op claim rounds in the worker: ${fixed(claimRate.empty)} tasks/s with an empty queue, ` +
      `${fixed(claimRate.withBacklog)} tasks/s (slowest round) with the backlog of another type queued.`,
  ].join('\n');
}

function targetRows(runs) {
  const drain = (id) => find(runs, 'drain', id)?.result?.tasksPerSecond;
  const pro = drain('proserver/postgres');
  const graphile = drain('graphile-worker');
  const pgBoss = drain('pg-boss');
  const idle = find(runs, 'idle', 'proserver/postgres')?.result;
  const critical = (variant) => find(runs, 'critical', 'proserver/postgres', variant)?.result;
  const memory = find(runs, 'memory', 'proserver/postgres')?.result;
  const both = (a, b) => (a === undefined || b === undefined ? undefined : [a, b]);
  const rows = [];
  const add = (target, measured, ok) => rows.push([target, measured, verdict(ok)]);

  const vsGraphile = both(pro, graphile);
  add(
    'drain ≥ graphile-worker (batched)',
    vsGraphile ? `${fixed(pro)} vs ${fixed(graphile)} tasks/s (${fixed(pro / graphile, 2)}×)` : '-',
    vsGraphile && pro >= TARGETS.drainVsGraphile * graphile,
  );
  const vsPgBoss = both(pro, pgBoss);
  add(
    'drain ≥ 5 × pg-boss',
    vsPgBoss ? `${fixed(pro)} vs ${fixed(pgBoss)} tasks/s (${fixed(pro / pgBoss, 2)}×)` : '-',
    vsPgBoss && pro >= TARGETS.drainVsPgBoss * pgBoss,
  );
  for (const [key, how] of [
    ['inProcess', 'same process'],
    ['viaNotify', 'via LISTEN/NOTIFY'],
  ]) {
    const s = idle?.[key];
    add(
      `idle pickup p50 ≤ ${TARGETS.idleP50Ms} ms, PostgreSQL (${how})`,
      s ? `${ms(s.p50, s.limitMs)} ms` : '-',
      s && s.p50 <= TARGETS.idleP50Ms,
    );
  }
  for (const [variant, how] of [
    ['reserved', 'critical slots free'],
    ['preempt', 'every slot busy, preemption'],
  ]) {
    const s = critical(variant);
    add(
      `critical pickup p99 ≤ ${TARGETS.criticalP99Ms} ms under batch load (${how})`,
      s ? `${ms(s.p99, s.limitMs)} ms` : '-',
      s && s.timedOut === 0 && s.p99 <= TARGETS.criticalP99Ms,
    );
  }
  const drift = memory ? Math.max(...memory.readings.map((r) => Math.abs(r.rssChange))) : undefined;
  add(
    `worker RSS flat (±${TARGETS.rssDrift * 100} %) with ${memory?.queued ?? '-'} tasks queued`,
    memory ? `largest change ${fixed(drift * 100, 1)} %` : '-',
    memory && drift <= TARGETS.rssDrift,
  );
  return rows;
}

/** Failed claims or writes the engine reported (it carries on after them): figures to doubt. */
function engineErrorLines(runs) {
  const lines = runs
    .filter((r) => r.result?.engineErrors)
    .map((r) => `  ${r.scenario} ${r.id}: ${r.result.engineErrors.count} (first: ${r.result.engineErrors.first})`);
  return lines.length > 0 ? ['ProServer engine errors (events of type "error"):', ...lines, ''] : [];
}

/** `runs`: [{scenario, id, label, how?, variant?, note?, result | error}]. */
export function formatTasksReport(runs, settings) {
  const header =
    `ProServer tasks benchmark: PostgreSQL ${settings.databaseLabel}, Redis ${settings.redis.host}:${settings.redis.port}, ` +
    `Node ${process.version}, ${settings.cpus} CPUs; each system × scenario in its own child process; ` +
    `concurrency ${settings.concurrency}`;
  return [
    header,
    '',
    `1. Drain: ${settings.drainCount} no-op tasks queued in bulk first, then the workers start; time until all are completed`,
    drainTable(runs),
    '',
    '2. Idle pickup: submit → handler start, one task at a time on an idle worker',
    idleTable(runs),
    '',
    `3. Critical pickup while ${settings.batchCount} batch tasks are queued and every slot the batch work can take is busy ` +
      `(each batch task runs 0.5–1.5 × ${settings.batchTaskMs} ms)`,
    criticalTable(runs),
    '',
    `4. ProServer (PostgreSQL) memory with ${settings.memoryQueued} tasks queued`,
    memoryTable(find(runs, 'memory', 'proserver/postgres')),
    '',
    ...engineErrorLines(runs),
    'Targets (issue 3), for ProServer on PostgreSQL:',
    table(targetRows(runs), [
      ['target', 'l'],
      ['measured', 'l'],
      ['verdict', 'l'],
    ]),
  ].join('\n');
}
