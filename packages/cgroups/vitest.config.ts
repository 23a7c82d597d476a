import { packageProject } from '../../vitest.shared.js';

export default packageProject('@runc-ts/cgroups');
