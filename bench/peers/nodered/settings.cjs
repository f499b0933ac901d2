// settings.cjs, not .js: inside a "type": "module" package (Outpost is one) Node would load a .js as ESM and
// red.js's require() of it would fail ("require is not defined in ES module scope").
// Node-RED settings for Outpost's peers benchmark: headless (no editor, no admin API, no HTTP
// server at all), flows from flows.json beside this file, userDir (with node-red-contrib-aedes
// installed in it) in ./userdir, logs at warn. Ports/hosts are read by flows.json itself through
// ${ENV} properties (MQTT_PORT, UPSTREAM_HOST, UPSTREAM_PORT, UPSTREAM_QOS) and by the function
// node through env.get (WINDOW_MS, SUMMARY_PREFIX). NODE_RED_USER_DIR / NODE_RED_FLOW_FILE override.
const path = require('path');

module.exports = {
    userDir: process.env.NODE_RED_USER_DIR || path.join(__dirname, 'userdir'),
    flowFile: process.env.NODE_RED_FLOW_FILE || path.join(__dirname, 'flows.json'),
    flowFilePretty: true,
    credentialSecret: false,          // no credentials in this flow: one-line warning instead of the generated-key banner

    // Both false: red.js never creates/listens on its HTTP server ("headless mode").
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,

    logging: {
        console: { level: 'warn', metrics: false, audit: false }
    },

    // Node-RED's default is 5000 ms without this line (the shipped settings template says 15000):
    // the mqtt-broker config nodes retry a refused/lost connection after this long.
    mqttReconnectTime: 1000,

    contextStorage: { default: { module: 'memory' } },
    functionExternalModules: false,
    functionTimeout: 0,
    externalModules: {
        autoInstall: false,
        palette: { allowInstall: false },
        modules: { allowInstall: false }
    },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    exportGlobalContextKeys: false
};
