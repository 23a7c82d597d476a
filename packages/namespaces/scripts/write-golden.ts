// Regenerates native/testdata/golden from test/golden.ts and the C protocol
// tables (native/src/protocol.gen.{h,c}) from src/plan.ts. The plan test
// fails when the committed files differ from what this produces.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dumpPlan, encodeFrame, encodePlan, MessageType } from '../src/plan.js';
import { goldenPlans } from '../test/golden.js';
import { nativeProtocolFiles } from './native-ops.js';

const dir = new URL('../../../native/testdata/golden/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, ops] of Object.entries(goldenPlans)) {
  writeFileSync(new URL(`${name}.plan`, dir), encodeFrame(MessageType.PLAN, encodePlan(ops)));
  writeFileSync(new URL(`${name}.txt`, dir), dumpPlan(ops));
}
console.log(`wrote ${Object.keys(goldenPlans).length} golden plans to ${dir.pathname}`);

const src = new URL('../../../native/src/', import.meta.url);
for (const [name, text] of Object.entries(nativeProtocolFiles())) {
  writeFileSync(new URL(name, src), text);
  console.log(`wrote ${new URL(name, src).pathname}`);
}
