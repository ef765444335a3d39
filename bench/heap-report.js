// Preloaded into a benched process (node -r ./bench/heap-report.js): its peak heap and RSS, as
// process.memoryUsage() reports them, written to BENCH_HEAP_FILE every second and at exit.
const fs = require('node:fs');
const { setInterval } = require('node:timers');

const file = process.env.BENCH_HEAP_FILE;
if (file) {
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
  };
  const write = () => {
    try {
      fs.writeFileSync(file, JSON.stringify(peak));
    } catch {
      /* the bench reads what it can */
    }
  };
  setInterval(sample, 100).unref();
  setInterval(write, 1000).unref();
  process.on('exit', () => (sample(), write()));
}
