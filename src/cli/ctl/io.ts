/**
 * Everything a ctl command touches outside itself, so main(argv, io) runs in-process in tests:
 * output streams, environment, whether stdin is a terminal, prompts, and sleeping.
 */
import { createInterface } from 'node:readline/promises';

export interface CtlIo {
  out(line: string): void;
  err(line: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when stdin is a terminal: only then may a command prompt or open $EDITOR. */
  readonly interactive: boolean;
  /** Asks a question on the terminal and resolves the answer (without the newline). */
  prompt(question: string): Promise<string>;
  /** All of stdin (for "--apply -"). */
  readStdin(): Promise<string>;
  sleep(ms: number): Promise<void>;
}

export function processIo(): CtlIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    interactive: process.stdin.isTTY === true,
    prompt: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try { return await rl.question(question); } finally { rl.close(); }
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
      return Buffer.concat(chunks).toString('utf8');
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}
