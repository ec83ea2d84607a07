/** The heap in use after full collections, for the tests and benchmarks that measure memory; needs --expose-gc. */
export async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('measuring the heap needs --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    // A fixed pause: what a collection leaves to later turns (finalizers, closed sockets' callbacks) frees
    // more for the next one, and no event says that nothing more will be freed.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().heapUsed;
}
