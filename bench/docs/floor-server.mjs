/**
 * The floor of the document write benchmark, forked by bench/docs/run.mjs: a bare Node.js HTTP
 * server that answers the same `PUT /api/doc-store/docs/<path>` with `If-Match` by ONE
 * conditional UPDATE on a one-table schema (path, data, revision), with no history, no event,
 * no path lock, no token check and no validation beyond parsing the body. It is what any
 * Node.js server pays on this machine for an HTTP request plus one durable write to this
 * PostgreSQL; ProServer's write figures above it are the price of versions, history, events,
 * preconditions and scopes.
 *
 * IPC as server.mjs: `ready` with `{url, writePaths}`, `stop`. Its schema is dropped on stop.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import postgres from 'postgres';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_docs_floor_${randomBytes(6).toString('hex')}`;
const PREFIX = '/api/doc-store/docs/';

const sql = postgres(url, { max: 10, onnotice: () => {}, connection: { search_path: schema } });

async function setUp() {
  await sql.unsafe(`CREATE SCHEMA "${schema}"`);
  await sql.unsafe(`CREATE SEQUENCE floor_revision_seq AS bigint`);
  await sql.unsafe(`CREATE TABLE floor_docs (path text PRIMARY KEY, data jsonb NOT NULL, revision bigint NOT NULL)`);
  const writePaths = [];
  for (let i = 0; i < 64; i++) {
    const path = `projects/p${i}/releases/r0/bench/w${i}`;
    const [row] = await sql`
      INSERT INTO floor_docs (path, data, revision) VALUES (${path}, '{"n":0}', nextval('floor_revision_seq'))
      RETURNING revision::float8 AS revision`;
    writePaths.push({ path, revision: row.revision });
  }
  return writePaths;
}

function answer(response, status, body) {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function write(request, response) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const { data } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const path = decodeURIComponent(request.url.slice(PREFIX.length));
  const expected = Number(String(request.headers['if-match'] ?? '').replaceAll('"', ''));
  const [row] = await sql`
    UPDATE floor_docs SET data = ${sql.json(data)}, revision = nextval('floor_revision_seq')
    WHERE path = ${path} AND revision = ${expected}
    RETURNING revision::float8 AS revision`;
  if (row) return answer(response, 200, { path, revision: row.revision });
  const [current] = await sql`SELECT revision::float8 AS revision FROM floor_docs WHERE path = ${path}`;
  answer(response, 412, { currentRevision: current?.revision ?? null });
}

const server = createServer((request, response) => {
  if (request.method !== 'PUT' || !request.url.startsWith(PREFIX)) return answer(response, 404, {});
  write(request, response).catch((error) => answer(response, 500, { error: String(error) }));
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await new Promise((resolve) => server.close(resolve));
  await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await sql.end();
  process.exit(0);
}
process.on('disconnect', () => void stop());
process.on('message', (message) => {
  if (message?.type === 'stop') void stop();
});

try {
  const writePaths = await setUp();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  process.send({ type: 'ready', url: `http://127.0.0.1:${port}`, writePaths });
} catch (error) {
  process.send({ type: 'failed', message: error instanceof Error ? error.stack : String(error) });
  await stop();
}
