// Loaded into a bench server child with NODE_OPTIONS="--import <this file>" and BENCH_HEAP_PROBE=<file>: on
// SIGUSR2 it writes {seq, allocated, scavenges, markSweeps} to that file. `allocated` counts the bytes allocated
// on the V8 heap since start (heap used now − heap used at start + every byte a GC freed, from v8.GCProfiler);
// Buffers' off-heap memory is not in it. Nothing in the server is changed: it only observes.

import { writeFileSync } from "node:fs";
import v8 from "node:v8";

const file = process.env.BENCH_HEAP_PROBE;
if (file) {
  const used = () => v8.getHeapStatistics().used_heap_size;
  const start = used();
  let profiler = new v8.GCProfiler();
  profiler.start();
  let freed = 0;
  let scavenges = 0;
  let markSweeps = 0;
  let seq = 0;
  process.on("SIGUSR2", () => {
    // The profiler hands its GCs over on stop: restart it at once (GCs run on this thread, none is missed).
    const { statistics } = profiler.stop();
    profiler = new v8.GCProfiler();
    profiler.start();
    for (const s of statistics) {
      freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
      if (s.gcType === "Scavenge" || s.gcType === "MinorMarkSweep" || s.gcType === "MinorMarkCompact") scavenges++;
      else if (s.gcType === "MarkSweepCompact") markSweeps++;
    }
    seq++;
    writeFileSync(file, JSON.stringify({ seq, allocated: used() - start + freed, scavenges, markSweeps }));
  });
}
