import { TickBatch } from './tick-batch';

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('TickBatch', () => {
  it('hands over everything pushed in one turn as one batch, and the next turn as another', async () => {
    const batches: number[][] = [];
    const batch = new TickBatch<number>((b) => batches.push(b));
    batch.push(1);
    batch.push(2);
    expect(batches).toEqual([]);
    await nextTurn();
    batch.push(3);
    await nextTurn();
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('hands over a full batch at once', async () => {
    const batches: number[][] = [];
    const batch = new TickBatch<number>((b) => batches.push(b), 2);
    [1, 2, 3].forEach((n) => batch.push(n));
    expect(batches).toEqual([[1, 2]]);
    await nextTurn();
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('never hands over an empty batch', async () => {
    const batches: number[][] = [];
    const batch = new TickBatch<number>((b) => batches.push(b), 1);
    batch.push(1);
    await nextTurn();
    expect(batches).toEqual([[1]]);
  });

  describe('with a linger', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('gathers across turns until the linger from the first push runs out', () => {
      const batches: number[][] = [];
      const batch = new TickBatch<number>((b) => batches.push(b), 100, 20);
      batch.push(1);
      jest.advanceTimersByTime(15);
      batch.push(2);
      expect(batches).toEqual([]);
      jest.advanceTimersByTime(5);
      expect(batches).toEqual([[1, 2]]);
      batch.push(3);
      jest.advanceTimersByTime(19);
      expect(batches).toEqual([[1, 2]]);
      jest.advanceTimersByTime(1);
      expect(batches).toEqual([[1, 2], [3]]);
    });

    it('hands over a full batch at once and starts a new linger for the rest', () => {
      const batches: number[][] = [];
      const batch = new TickBatch<number>((b) => batches.push(b), 2, 20);
      [1, 2, 3].forEach((n) => batch.push(n));
      expect(batches).toEqual([[1, 2]]);
      jest.advanceTimersByTime(20);
      expect(batches).toEqual([[1, 2], [3]]);
    });

    it('flush() hands over at once and cancels the linger', () => {
      const batches: number[][] = [];
      const batch = new TickBatch<number>((b) => batches.push(b), 100, 20);
      batch.push(1);
      batch.flush();
      expect(batches).toEqual([[1]]);
      jest.advanceTimersByTime(50);
      expect(batches).toEqual([[1]]);
    });
  });
});
