import { z } from 'zod';
import { integerIn, stringMap } from './primitives.js';

export const StatusSchema = z.enum(['creating', 'created', 'running', 'stopped']);

/** The state of a container as `runc state` prints it (runtime-spec "state"). */
export const StateSchema = z.looseObject({
  ociVersion: z.string(),
  id: z.string(),
  status: StatusSchema,
  pid: integerIn(0, Number.MAX_SAFE_INTEGER, 'non-negative integer').optional(),
  bundle: z.string(),
  annotations: stringMap.optional(),
});
