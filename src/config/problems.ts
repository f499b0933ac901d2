/** One thing wrong with a config, printed as `path: message`. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Exit code for a bad config (sysexits.h EX_CONFIG); systemd's RestartPreventExitStatus uses it. */
export const EX_CONFIG = 78;

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}
