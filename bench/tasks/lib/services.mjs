/** Checks that PostgreSQL and Redis answer before any child starts, so a missing server is one clear line. */
import { createConnection } from 'node:net';
import postgres from 'postgres';

function redisPing({ host, port }, timeoutMs = 2_000) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    const fail = (error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`Redis at ${host}:${port} did not answer`)));
    socket.once('error', (error) => fail(new Error(`Redis at ${host}:${port}: ${error.message}`)));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.end();
      if (data.toString().startsWith('+PONG')) resolve();
      else reject(new Error(`Redis at ${host}:${port} answered ${JSON.stringify(data.toString().trim())}`));
    });
  });
}

async function postgresPing(url) {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Answers `{postgres?: reason, redis?: reason}` for the servers that cannot be used. */
export async function probeServices(settings) {
  const unavailable = {};
  await postgresPing(settings.databaseUrl).catch((error) => {
    unavailable.postgres = `PostgreSQL: ${error.message}`;
  });
  await redisPing(settings.redis).catch((error) => {
    unavailable.redis = error.message;
  });
  return unavailable;
}
