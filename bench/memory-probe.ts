// Preloaded (--import) into a server under test so the bench can read its
// memory from outside: on the IPC message 'memory' it collects garbage (the
// process runs with --expose-gc) and answers process.memoryUsage() and the
// count of the resources keeping the event loop alive (sockets, timers…).
// It adds nothing else to the process.
process.on('message', (message) => {
  if (message !== 'memory') return;
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, external } = process.memoryUsage();
  process.send?.({ memory: { rss, heapUsed, external, handles: process.getActiveResourcesInfo().length } });
});
// The channel must not keep a server alive on its own.
process.channel?.unref();
