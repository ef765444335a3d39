import { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Env } from '../config/env';
import type { PreparedResponse, ResponsesService } from './responses.service';
import { SseWriter } from './sse-writer';
import type { StreamFrame } from './stream-events';

/**
 * Runs a prepared generation as a server-sent event stream on `reply`. The client going away
 * aborts the generation (and its upstream request). Errors before the first event are ordinary
 * JSON errors (thrown); after it, they travel as events. `write` renders the frames (the
 * Responses API events, or chat chunks); `end` may add a closing line.
 */
export async function streamReply(
  reply: FastifyReply,
  env: Env,
  responses: ResponsesService,
  prepared: PreparedResponse,
  write: (sse: SseWriter, frames: StreamFrame[]) => Promise<void>,
  end: (sse: SseWriter) => Promise<void> = async () => undefined,
): Promise<void> {
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const sse = new SseWriter(reply.raw, reply.getHeaders(), () => reply.hijack(), env.SSE_KEEPALIVE_MS, env.STREAM_WRITE_TIMEOUT_MS);
  let answered = false;
  try {
    await responses.stream(prepared, abort.signal, (frames) => write(sse, frames));
    answered = true;
    if (sse.opened) await end(sse);
    else reply.hijack(); // the client left before anything was produced
  } catch (err) {
    // Before the first event this is an ordinary JSON error; after it, the stream cannot say more.
    if (!sse.opened) throw err;
    logger.error({ err }, 'stream ended by an unexpected error');
  } finally {
    if (answered || sse.opened) sse.end();
  }
}

const logger = new Logger('Streams');
