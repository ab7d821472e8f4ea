import { describeEventContract, testBackendNames } from '@proserver/core/testing';

for (const backend of testBackendNames()) describeEventContract(backend);
