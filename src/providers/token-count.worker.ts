import { parentPort } from 'node:worker_threads';
import { countTokens } from './tokenizer';

/** One task at a time: the texts in, their counts out (see TokenCountPool). */
parentPort!.on('message', (texts: string[]) => {
  parentPort!.postMessage(texts.map(countTokens));
});
