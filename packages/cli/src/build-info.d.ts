export declare const buildInfo: {
  version: string;
  commit: string;
};
/** `runc --version`, in runc's layout: one `key: value` line per component. */
export declare function versionText(): string;
//# sourceMappingURL=build-info.d.ts.map
