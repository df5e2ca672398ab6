// Preload for the service under `BENCH_ALLOC_PROF=1` (bench/run.mjs): the first SIGUSR2 starts V8's
// sampling heap profiler with collected objects included (so it sees what is allocated, not only
// what survives), the next one stops it and writes bench/results/alloc-<pid>-<n>.heapprofile
// (the process's working directory is the repository). `node bench/alloc-summary.mjs <file>`
// summarises it. A diagnostic: sampling costs a few percent of throughput. One service process
// only (BENCH_WEB_CONCURRENCY=1): the signal reaches the process the bench started.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const session = new Session();
session.connect();
let sampling = false;
let written = 0;

process.on('SIGUSR2', () => {
  const step = sampling
    ? session.post('HeapProfiler.stopSampling').then(({ profile }) => {
        written += 1;
        mkdirSync('bench/results', { recursive: true });
        writeFileSync(`bench/results/alloc-${process.pid}-${written}.heapprofile`, JSON.stringify(profile));
      })
    : session
        .post('HeapProfiler.enable')
        .then(() =>
          session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }),
        );
  sampling = !sampling;
  step.catch((error) => process.stderr.write(`alloc-profile: ${error.message}\n`));
});
