// The examples of the Markdown documentation, run as written. A fenced block
// is marked in its info string (the first word stays the language, so
// renderers still highlight it):
//
//   ```sh test=NAME [requires=systemd|cgroup2]   a shell example, run by bash
//   ```text output=NAME                           what example NAME prints on stdout
//   ```python file=NAME                           a file the examples use, written
//                                                 into their directory first
//
// Each example runs, with stdin /dev/null, in a fresh directory holding the
// bundle the documents start from: `mycontainer`, made by
// `scripts/make-busybox-bundle mycontainer` and `runc spec` in it. In an
// expected output `…` stands for any text within the line; carriage returns
// (a pty's ONLCR) are ignored.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { type RunResult, repoRoot, runCaptured, runcTs } from './runc.js';
import { Sandbox } from './sandbox.js';

export interface DocBlock {
  /** The document, relative to the repository. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  attrs: Record<string, string>;
  body: string;
}

/** Every fenced block of a document, with the key=value words of its info string. */
export function docBlocks(doc: string): DocBlock[] {
  const lines = readFileSync(join(repoRoot, doc), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) {
      body.push(lines[i] as string);
    }
    if (i >= lines.length) throw new Error(`${doc}:${start + 1}: unterminated code block`);
    const attrs: Record<string, string> = {};
    for (const word of (open[2] as string).trim().split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf('=');
      attrs[eq < 0 ? word : word.slice(0, eq)] = eq < 0 ? '' : word.slice(eq + 1);
    }
    blocks.push({
      doc,
      line: start + 1,
      lang: open[1] as string,
      attrs,
      body: body.length > 0 ? `${body.join('\n')}\n` : '',
    });
  }
  return blocks;
}

/** Whether `actual` is what the `output=` block says, with `…` matching any text within a line. */
export function outputMatches(expected: string, actual: string): boolean {
  const pattern = expected
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^\\n]*');
  return new RegExp(`^${pattern}$`).test(actual.replace(/\r/g, ''));
}

/** Why an example cannot run on this machine, or undefined. */
export function exampleSkipReason(block: DocBlock): string | undefined {
  if (process.getuid?.() !== 0) return 'the examples run containers as root';
  const requires = block.attrs.requires;
  if (requires === 'systemd') {
    const init = readFileSync('/proc/1/comm', 'utf8').trim();
    if (init !== 'systemd' || !process.env.RUNC_TS_NSPAWN_GUEST) {
      return 'needs systemd as PID 1: integration/systemd/docs.test.ts runs it under systemd-nspawn';
    }
  } else if (requires === 'cgroup2') {
    const isV2 = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => / \/sys\/fs\/cgroup .* - cgroup2 /.test(line));
    if (!isV2) {
      return 'needs a cgroup v2 host: scripts/vm/cgroup2-suite runs it in the cgroup v2 VM';
    }
  } else if (requires !== undefined) {
    return `unknown requires=${requires}`;
  }
  return undefined;
}

/**
 * Runs the examples of one test file. With `privateRoot`, `runc` on the
 * examples' PATH is runc-ts with a private `--root` (everything is deleted by
 * `cleanup()`); without, `runc` is what PATH finds, after `pathPrefix` (the
 * systemd test installs runc-ts as /usr/local/bin/runc in its throwaway guest).
 */
export class DocExampleRunner {
  readonly sandbox = new Sandbox();
  private readonly bin = join(this.sandbox.dir, 'bin');
  private count = 0;

  constructor(
    private readonly privateRoot: boolean,
    private readonly pathPrefix?: string,
  ) {
    mkdirSync(this.bin);
    if (privateRoot) {
      writeFileSync(
        join(this.bin, 'runc'),
        `#!/bin/sh\nexec ${runcTs} --root ${this.sandbox.root} "$@"\n`,
        { mode: 0o755 },
      );
    }
  }

  /** A fresh directory with `mycontainer` (busybox rootfs, config.json from `runc spec`) and the document's files. */
  workDir(files: readonly DocBlock[]): string {
    this.count++;
    const dir = join(this.sandbox.dir, `example${this.count}`);
    mkdirSync(dir);
    const bundle = join(dir, 'mycontainer');
    cpSync(this.sandbox.bundle(), bundle, { recursive: true, verbatimSymlinks: true });
    rmSync(join(bundle, 'config.json'));
    const spec = runCaptured(runcTs, ['spec'], { dir: this.sandbox.dir, cwd: bundle });
    if (spec.status !== 0) throw new Error(`runc spec: ${spec.stderr}`);
    for (const file of files) {
      const name = file.attrs.file as string;
      if (!isAbsolute(name)) writeFileSync(join(dir, name), file.body);
    }
    return dir;
  }

  /** Runs a `test=` block with bash in `cwd`. */
  run(block: DocBlock, cwd: string, timeout = 60_000): RunResult {
    this.count++;
    const script = join(this.sandbox.dir, `example${this.count}.sh`);
    writeFileSync(script, block.body);
    const prefix = this.privateRoot ? this.bin : this.pathPrefix;
    const path = prefix ? `${prefix}:${process.env.PATH}` : process.env.PATH;
    return runCaptured('bash', [script], {
      dir: this.sandbox.dir,
      cwd,
      env: { ...process.env, PATH: path },
      timeout,
    });
  }

  cleanup(): void {
    this.sandbox.cleanup();
  }
}

/** The `test=` blocks of a document, each with its `output=` block, and its `file=` blocks. */
export function docExamples(doc: string): {
  examples: { block: DocBlock; output: DocBlock | undefined }[];
  files: DocBlock[];
} {
  const blocks = docBlocks(doc);
  const outputs = new Map(
    blocks.filter((b) => b.attrs.output !== undefined).map((b) => [b.attrs.output, b]),
  );
  return {
    examples: blocks
      .filter((b) => b.attrs.test !== undefined)
      .map((block) => ({ block, output: outputs.get(block.attrs.test) })),
    files: blocks.filter((b) => b.attrs.file !== undefined),
  };
}
