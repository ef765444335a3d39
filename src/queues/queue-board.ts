import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardAdapter } from '@bull-board/fastify';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { bearerToken, secretsEqual } from '../auth/api-key';
import { ApiError } from '../common/api-error';
import { Env } from '../config/env';
import { QUEUES } from './queues';

export const QUEUE_BOARD_PATH = '/admin/queues/board';

/** The admin token as a bearer token, or as the password of Basic auth (so a browser can log in). */
function adminTokenOf(header: string | undefined): string | null {
  const bearer = bearerToken(header);
  if (bearer) return bearer;
  const basic = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!basic) return null;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

/** Bull Board (the queues' web UI) at /admin/queues/board, behind the admin token. */
export function setupQueueBoard(app: NestFastifyApplication) {
  const env = app.get(Env);
  const board = new BullBoardAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: Object.values(QUEUES).map((name) => new BullMQAdapter(app.get<Queue>(getQueueToken(name)))),
    serverAdapter: board,
  });
  app.getHttpAdapter().getInstance().register(async (scope) => {
    scope.addHook('onRequest', async (req, reply) => {
      const token = adminTokenOf(req.headers.authorization);
      if (token && secretsEqual(token, env.ADMIN_TOKEN!)) return;
      const error = new ApiError(401, 'A valid admin token is required (Bearer, or as the Basic auth password).', 'invalid_request_error', 'invalid_api_key');
      await reply.status(401).header('www-authenticate', 'Basic realm="Tollgate queues"').send(error.toBody());
    });
    await scope.register(board.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
  });
}
