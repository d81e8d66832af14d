// Progress of a long operator command (rewrap-keys, sync-users), on stdout: a
// cli-progress bar when stdout is a terminal, otherwise plain lines such as
// "12000/50000 lines, 11990 ok, 10 failed": the first after the first step,
// then at most one per interval, and the last when the command ends.
import { SingleBar } from 'cli-progress';

export interface ProgressCounts {
  /** Units done so far (lines read, rows visited), ok or failed. */
  done: number;
  ok: number;
  failed: number;
}

export interface Progress {
  update(counts: ProgressCounts): void;
  /** Prints the final state (the last line or the full bar) and releases the terminal. */
  stop(): void;
}

export interface ProgressOptions {
  total: number;
  /** What is counted, plural: "lines", "data keys". */
  unit: string;
  stream?: NodeJS.WriteStream;
  /** Least time between two plain lines. */
  intervalMs?: number;
}

export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stdout;
  return stream.isTTY ? barProgress(stream, options) : lineProgress(stream, options);
}

function barProgress(stream: NodeJS.WriteStream, { total, unit }: ProgressOptions): Progress {
  const bar = new SingleBar({
    stream,
    format: `{bar} {percentage}% | {value}/{total} ${unit}, {ok} ok, {failed} failed | ETA {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: false,
  });
  bar.start(total, 0, { ok: 0, failed: 0 });
  return {
    update: ({ done, ok, failed }) => bar.update(done, { ok, failed }),
    stop: () => bar.stop(),
  };
}

function lineProgress(stream: NodeJS.WriteStream, { total, unit, intervalMs = 1000 }: ProgressOptions): Progress {
  let last: ProgressCounts = { done: 0, ok: 0, failed: 0 };
  let printedAt: number | null = null;
  let printed: ProgressCounts | null = null;
  const print = (counts: ProgressCounts) => {
    stream.write(`${counts.done}/${total} ${unit}, ${counts.ok} ok, ${counts.failed} failed\n`);
    printedAt = Date.now();
    printed = counts;
  };
  return {
    update(counts) {
      last = counts;
      if (printedAt === null || Date.now() - printedAt >= intervalMs) print(counts);
    },
    stop() {
      if (printed !== last) print(last);
    },
  };
}
