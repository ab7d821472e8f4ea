import { describeKvContract, testBackendNames } from '@proserver/core/testing';

for (const backend of testBackendNames()) describeKvContract(backend);
