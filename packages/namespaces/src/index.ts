// @runc-ts/namespaces: pure planning from a validated config to the
// executor plan (native/PROTOCOL.md). No I/O.
export {
  dumpPlan,
  encodeFrame,
  encodePlan,
  MessageType,
  OPS,
  type Op,
  type OpName,
  op,
  opName,
  PROTOCOL_MAGIC,
  SyncKind,
} from './plan.js';
