import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedWebhook {
  at: number;
  /** The request's path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this receiver answered. */
  status: number;
}

/** Chooses the answer to each request (the n-th, 1-based, that this receiver saw). */
export type Answer = (n: number, req: { headers: IncomingHttpHeaders; body: string }) => number | Promise<number>;

/**
 * A webhook receiver on loopback that records every request. It can be stopped and started again
 * on the same port, to play a receiver that is down for a while.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  private port = 0;

  constructor(private answer: Answer = () => 200) {}

  get url() {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  setAnswer(answer: Answer) {
    this.answer = answer;
  }

  /** Only the requests it answered with a 2xx. */
  get accepted() {
    return this.received.filter((r) => r.status >= 200 && r.status < 300);
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        void Promise.resolve(this.answer(this.received.length + 1, { headers: req.headers, body })).then((status) => {
          this.received.push({ at: Date.now(), path: req.url ?? '', headers: req.headers, body, status });
          res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
        });
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
