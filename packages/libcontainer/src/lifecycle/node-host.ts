// The real Host: the light parts (host.ts) and the cgroup drivers.

import { cgroupManagerOf } from '../cgroup.js';
import { type Host, nodeHostParts, nodeStatusHost } from './host.js';

export const nodeHost: Host = { ...nodeStatusHost, ...nodeHostParts, cgroup: cgroupManagerOf };
