// Renders the C side of the executor protocol's constants from the tables in
// src/plan.ts: native/src/protocol.gen.h (message types, value kinds, sync
// kinds, opcodes and the RTS_FOR_EACH_OP list the executor dispatches on) and
// native/src/protocol.gen.c (the decoder's opcode -> name and signature table).
// write-golden.ts writes them; plan.test.ts fails when the committed files differ.
import {
  KIND_CODE,
  MessageType,
  OPS,
  PROTOCOL_MAGIC,
  SyncKind,
  type ValueKind,
} from '../src/plan.js';

const BANNER =
  '/* Generated from packages/namespaces/src/plan.ts by packages/namespaces/scripts/native-ops.ts\n' +
  ' * (`pnpm --filter @runc-ts/namespaces golden`): do not edit. */\n';

const KIND_ENUM: Record<ValueKind, string> = {
  u64: 'RTS_U64',
  str: 'RTS_STR',
  strlist: 'RTS_STRLIST',
  bytes: 'RTS_BYTES',
  u64list: 'RTS_U64LIST',
};

/** The ops sorted by code; throws on a duplicate code or name the C side could not hold. */
function sortedOps(): { name: string; code: number; kinds: readonly ValueKind[] }[] {
  const ops = Object.entries(OPS)
    .map(([name, [code, kinds]]) => ({ name, code, kinds: kinds as readonly ValueKind[] }))
    .sort((a, b) => a.code - b.code);
  const seen = new Set<number>();
  for (const { name, code, kinds } of ops) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`op name ${name} is not a C identifier`);
    if (!Number.isInteger(code) || code < 1 || code > 0xffff)
      throw new Error(`op ${name}: code ${code} is not a u16 above 0`);
    if (seen.has(code)) throw new Error(`op ${name}: code ${code} is used twice`);
    if (kinds.length > 7) throw new Error(`op ${name}: ${kinds.length} values, at most 7`);
    seen.add(code);
  }
  return ops;
}

function enumBody(entries: [string, number][]): string {
  return entries.map(([name, value]) => `\t${name} = ${value},\n`).join('');
}

export function renderProtocolHeader(): string {
  const ops = sortedOps();
  const max = ops[ops.length - 1]?.code ?? 0;
  const hex = `0x${PROTOCOL_MAGIC.toString(16).padStart(8, '0')}u`;
  return [
    BANNER,
    '#ifndef RTS_PROTOCOL_GEN_H\n#define RTS_PROTOCOL_GEN_H\n\n',
    `#define RTS_MAGIC ${hex}\n`,
    `#define RTS_MAX_VALUES 7u\n\n`,
    'enum rts_msg {\n',
    enumBody(Object.entries(MessageType).map(([n, v]) => [`RTS_MSG_${n}`, v])),
    '};\n\n',
    'enum rts_kind {\n',
    enumBody(
      (Object.entries(KIND_CODE) as [ValueKind, number][]).map(([k, v]) => [KIND_ENUM[k], v]),
    ),
    '};\n\n',
    '/* SYNC op values and SYNC message kinds */\n',
    'enum rts_sync_kind {\n',
    enumBody(Object.entries(SyncKind).map(([n, v]) => [`RTS_SYNC_${n}`, v])),
    '};\n\n',
    'enum rts_opcode {\n',
    enumBody(ops.map(({ name, code }) => [`OP_${name}`, code])),
    `\tOP_MAX = ${max},\n`,
    '};\n\n',
    '/* X(NAME, name) for every op, in code order: the executor builds its\n',
    ' * dispatch table from it (a missing handler is a link error). */\n',
    '#define RTS_FOR_EACH_OP(X) \\\n',
    ops.map(({ name }) => `\tX(${name}, ${name.toLowerCase()})`).join(' \\\n'),
    '\n\n#endif\n',
  ].join('');
}

export function renderProtocolSource(): string {
  const ops = sortedOps();
  const rows = ops.map(({ name, kinds }) => {
    const list = kinds.length ? kinds.map((k) => KIND_ENUM[k]).join(', ') : '0';
    return `\t[OP_${name}] = {"${name}", ${kinds.length}, {${list}}},\n`;
  });
  return [
    BANNER,
    '#include "protocol.h"\n\n',
    '/* Opcode -> name and value signature; unassigned codes have no name. */\n',
    'const struct rts_opdef rts_opdefs[OP_MAX + 1] = {\n',
    rows.join(''),
    '};\n',
  ].join('');
}

/** Generated file name (under native/src/) -> its content. */
export function nativeProtocolFiles(): Record<string, string> {
  return { 'protocol.gen.h': renderProtocolHeader(), 'protocol.gen.c': renderProtocolSource() };
}
