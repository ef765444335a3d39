import { parentPort } from 'node:worker_threads';
import { jsonDigest } from './json-digest';
import type { PoolJob } from './token-count-pool';
import { countTokens } from './tokenizer';

/** One job at a time, answered with its result (see TokenCountPool). */
parentPort!.on('message', (job: PoolJob) => {
  parentPort!.postMessage(job.kind === 'count' ? job.texts.map(countTokens) : jsonDigest(job.value));
});
