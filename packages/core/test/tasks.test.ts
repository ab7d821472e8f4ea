import { describeTaskContract, testBackendNames } from '@proserver/core/testing';
import { describeMultiProcessTasks } from './fixtures/multi-process-suite.js';

for (const backend of testBackendNames()) describeTaskContract(backend);

// Real child processes sharing one PostgreSQL schema: only with a PostgreSQL server.
if (process.env.DATABASE_URL) describeMultiProcessTasks(process.env.DATABASE_URL);
