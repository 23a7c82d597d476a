// Regenerates native/testdata/golden from test/golden.ts. The plan test fails
// when the committed files differ from what the encoder produces.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dumpPlan, encodeFrame, encodePlan, MessageType } from '../src/plan.js';
import { goldenPlans } from '../test/golden.js';

const dir = new URL('../../../native/testdata/golden/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, ops] of Object.entries(goldenPlans)) {
  writeFileSync(new URL(`${name}.plan`, dir), encodeFrame(MessageType.PLAN, encodePlan(ops)));
  writeFileSync(new URL(`${name}.txt`, dir), dumpPlan(ops));
}
console.log(`wrote ${Object.keys(goldenPlans).length} golden plans to ${dir.pathname}`);
