import { ContainerError } from './errors.js';

const ID_PATTERN = /^[\w+\-.]+$/;

/**
 * runc's container id rule: letters, digits, `_`, `+`, `-` and `.`, not `.`
 * or `..` (the id names a directory under --root).
 */
export function validateContainerId(id: string): void {
  if (!isValidContainerId(id)) {
    throw new ContainerError(
      'ID_INVALID',
      `invalid container ID format: ${JSON.stringify(id)} (use letters, digits, "_", "+", "-" and ".")`,
    );
  }
}

/** Whether `id` follows runc's container id rule (see validateContainerId). */
export function isValidContainerId(id: string): boolean {
  return ID_PATTERN.test(id) && id !== '.' && id !== '..';
}
