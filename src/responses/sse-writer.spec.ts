import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { SseWriter } from './sse-writer';

/** Enough of a Node response for the writer: records writes, and can say its buffer is full. */
class FakeResponse extends EventEmitter {
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writes: string[] = [];
  full = false;
  writeHead() {
    this.headersSent = true;
  }
  write(chunk: string) {
    this.writes.push(chunk);
    return !this.full;
  }
  end() {
    this.writableEnded = true;
  }
  destroy() {
    this.destroyed = true;
  }
}

const nextTurn = () => new Promise((r) => setImmediate(r));
const frame = (n: number) => ({ type: 'response.output_text.delta', data: { sequence_number: n } }) as never;

describe('SseWriter', () => {
  it('sends the events of one turn of the event loop in one socket write, in order', async () => {
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse, {});
    await sse.send([frame(1)]);
    await sse.send([frame(2)]);
    await sse.send([frame(3)]);
    expect(res.writes).toEqual([]);
    await nextTurn();
    expect(res.writes).toHaveLength(1);
    expect(res.writes[0].match(/sequence_number":(\d)/g)).toEqual(['sequence_number":1', 'sequence_number":2', 'sequence_number":3']);
    await sse.send([frame(4)]);
    await nextTurn();
    expect(res.writes).toHaveLength(2);
  });

  it('makes writers wait for drain once the socket buffer is full', async () => {
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse, {});
    res.full = true;
    await sse.send([frame(1)]);
    await nextTurn();
    let resumed = false;
    const waiting = sse.send([frame(2)]).then(() => (resumed = true));
    await nextTurn();
    expect(resumed).toBe(false);
    res.full = false;
    res.emit('drain');
    await waiting;
    expect(resumed).toBe(true);
  });

  it('writes what is gathered before it ends the response', async () => {
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse, {});
    await sse.send([frame(1)]);
    await sse.sendDone();
    sse.end();
    expect(res.writes.join('')).toContain('data: [DONE]');
    expect(res.writableEnded).toBe(true);
  });

  it('sends at once when a producer that never yields has gathered 64 KB', async () => {
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse, {});
    const big = { type: 'response.output_text.delta', data: { delta: 'x'.repeat(70 * 1024) } } as never;
    await sse.send([big]);
    expect(res.writes).toHaveLength(1);
    sse.end();
  });
});
