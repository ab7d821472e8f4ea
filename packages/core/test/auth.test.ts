import { describeAuthContract, testBackendNames } from '@proserver/core/testing';

for (const backend of testBackendNames()) describeAuthContract(backend);
