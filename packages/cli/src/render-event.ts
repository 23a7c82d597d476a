import { type CgroupStats, formatStatsJson } from '@runc-ts/libcontainer';

export type ContainerEvent =
  | { type: 'stats'; id: string; data: CgroupStats }
  | { type: 'oom'; id: string };

/** One `runc events` line: runc's event JSON, stats with its empty intel_rdt and network fields. */
export function renderEvent(event: ContainerEvent): string {
  if (event.type === 'oom') return `${JSON.stringify(event)}\n`;
  const data = { ...event.data, intel_rdt: {}, network_interfaces: null };
  // formatStatsJson: limits such as 2^63-4096 must print exactly, as Go does.
  return `${formatStatsJson({ type: 'stats', id: event.id, data })}\n`;
}
