/**
 * The cgroup v2 device filter: linux.resources.devices compiled to a
 * BPF_PROG_TYPE_CGROUP_DEVICE program and attached to a cgroup with bpf(2).
 */
export { attachDeviceFilter, detachDeviceFilters, listDeviceFilters } from './attach.js';
export { compileDeviceFilter } from './compile.js';
export { DeviceFilterError, type DeviceFilterErrorCode } from './errors.js';
export { formatDeviceFilter } from './format.js';
export { type DeviceRule, formatDeviceRule, parseDeviceRules } from './rules.js';
