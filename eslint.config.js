// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The pure core must stay pure: no Node I/O modules and no adapter packages in src/stream/.
const IO_MODULES = ['fs', 'net', 'http', 'https', 'dgram', 'child_process', 'worker_threads', 'tls', 'dns', 'os', 'cluster', 'readline', 'process', 'timers']
  .flatMap((m) => [m, `node:${m}`, `${m}/*`, `node:${m}/*`]);
const IO_PACKAGES = ['mqtt', 'aedes', 'sqlite3', 'node-cron', 'onoff', 'pino', 'prom-client', 'commander'];

const TOOLS_BAN = { group: ['**/tools/*', '**/tools/**'], message: 'src/tools holds development tools, left out of device installs: the runtime must not import them.' };
const PURE = 'is pure (no I/O) and imports only the pure core';
/** Per room, the imports it must not make (besides tools/). */
const ROOMS = {
  wire: [
    { group: IO_MODULES, message: `src/wire ${PURE}` },
    { group: ['../sources/*', '../store/*', '../outputs/*', '../ops/*', '../broker/*', '../cli/*', '../agent/*', '../config/*', '../gpio/*'], message: `src/wire ${PURE} (stream/).` },
  ],
  store: [
    { group: ['../wire/*', '../sources/*', '../outputs/*', '../broker/*', '../agent/*', '../cli/*'], message: 'src/store stores rows and seqs: it never renders or reads a payload (an encoder and a merger are injected) and knows no source or output.' },
  ],
  sources: [
    { group: ['../outputs/*', '../../outputs/*', '../store/*', '../../store/*', '../agent/*', '../../agent/*'], message: 'a source hands readings to its sink: it knows no output, store or agent.' },
  ],
  outputs: [
    { group: ['../sources/*', '../../sources/*', '../../agent/*', '../../broker/*'], message: 'an output knows no source, broker or agent: the agent wires them.' },
  ],
  fleet: [
    { group: ['../agent/*', '../sources/*', '../outputs/*', '../broker/*', '../cli/*'], message: 'the fleet service reads what devices send (wire/) and keeps its own store: it knows no agent part.' },
  ],
  cli: [
    {
      group: ['../store/sqlite*', '../store/open-store*', '../store/outbox*', '../store/checkpoint*', '../store/group-commit*', '../store/salvage*'],
      allowTypeImports: true,
      message: 'the CLI reaches the database through store/cli-store.ts only: read-only while an agent runs, under its lock when none does.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/', 'scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', NodeJS: 'readonly' } },
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
  // Rooms (docs/architecture.md): each may import only inward. Flat config keeps the last
  // 'no-restricted-imports' that matches a file, so each room lists all of its own bans.
  {
    // The fleet dashboard: plain ES modules in the browser.
    files: ['fleet-ui/**/*.js'],
    languageOptions: { globals: Object.fromEntries(['document', 'window', 'location', 'localStorage', 'sessionStorage', 'FormData', 'prompt', 'fetch', 'EventSource', 'setTimeout', 'clearTimeout', 'encodeURIComponent', 'decodeURIComponent', 'URL'].map((g) => [g, 'readonly'])) },
  },
  ...Object.entries(ROOMS).map(([room, banned]) => ({
    files: [`src/${room}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [TOOLS_BAN, ...banned] }] },
  })),
  {
    // Development tools (demo, simulator, NAB) are not installed on devices: the runtime never
    // imports them (src/cli/main.ts loads them by name, with a clear message when absent).
    files: ['src/**/*.ts'],
    ignores: ['src/stream/**', 'src/tools/**', ...Object.keys(ROOMS).map((r) => `src/${r}/**`)],
    rules: { 'no-restricted-imports': ['error', { patterns: [TOOLS_BAN] }] },
  },
  {
    // The Node-RED peer's settings and flow generator (bench/peers): CommonJS, as Node-RED loads them.
    files: ['bench/peers/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
