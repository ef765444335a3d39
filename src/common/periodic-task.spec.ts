import { PeriodicTask } from './periodic-task';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PeriodicTask', () => {
  it('runs on its interval, never two at once, and stop() waits for the run in progress', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let finished = 0;
    const task = new PeriodicTask(10, async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(35);
      running--;
      finished++;
    }, () => undefined);
    task.start();
    await sleep(120);
    await task.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(maxRunning).toBe(1);
    expect(finished).toBe(runs);
    await sleep(40);
    expect(runs).toBe(finished); // no run after stop()
  });

  it('reports a failed run and keeps going', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const task = new PeriodicTask(5, async () => {
      runs++;
      throw new Error('boom');
    }, (err) => errors.push(err));
    task.start();
    // Two runs at least, however slow the machine: wait for them rather than for a fixed time.
    for (let waited = 0; runs < 2 && waited < 5000; waited += 10) await sleep(10);
    await task.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(errors).toHaveLength(runs);
  });
});
