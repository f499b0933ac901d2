// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The pure core must stay pure: no Node I/O modules and no adapter packages in src/stream/.
const IO_MODULES = ['fs', 'net', 'http', 'https', 'dgram', 'child_process', 'worker_threads', 'tls', 'dns', 'os', 'cluster', 'readline', 'process', 'timers']
  .flatMap((m) => [m, `node:${m}`, `${m}/*`, `node:${m}/*`]);
const IO_PACKAGES = ['mqtt', 'aedes', 'sqlite3', 'node-cron', 'onoff', 'pino', 'prom-client', 'commander'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/', 'scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', TextDecoder: 'readonly', NodeJS: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/stream/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: IO_PACKAGES.map((name) => ({ name, message: 'src/stream is the pure core: no I/O. Put adapters in sources/, store/, uplink/ or ops/.' })),
        patterns: [
          { group: IO_MODULES, message: 'src/stream is the pure core: no I/O. Put adapters in sources/, store/, uplink/ or ops/.' },
          { group: ['../sources/*', '../store/*', '../uplink/*', '../ops/*', '../broker/*', '../cli/*', '../agent/*', '../config/*', '../tools/*'], message: 'src/stream imports nothing outside itself: dependencies point inward.' },
        ],
      }],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'stream/ is synchronous: time comes in as an argument' }, { name: 'setInterval', message: 'stream/ is synchronous: time comes in as an argument' }],
      'no-restricted-syntax': ['error',
        { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'stream/ uses the injected clock (a `now` argument)' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'stream/ uses the injected clock (a `now` argument)' },
      ],
    },
  },
  {
    // Development tools (demo, simulator, NAB) are not installed on devices: the runtime never
    // imports them (src/cli/main.ts loads them by name, with a clear message when absent).
    files: ['src/**/*.ts'],
    ignores: ['src/stream/**', 'src/tools/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/tools/*', '**/tools/**'], message: 'src/tools holds development tools, left out of device installs: the runtime must not import them.' }] }],
    },
  },
);
