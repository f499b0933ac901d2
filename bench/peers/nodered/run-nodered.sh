#!/bin/sh
# Starts the Node-RED peer headless. exec: the pid you spawned is Node-RED's node process itself
# (so /proc/<pid>/status and signals reach it directly). Stop with SIGTERM or SIGINT: red.js calls
# RED.stop() (closes the nodes: aedes broker, MQTT clients) and exits 0.
# Env (defaults): MQTT_PORT=1883 (in-process aedes, listens on all interfaces), UPSTREAM_HOST=127.0.0.1,
# UPSTREAM_PORT=1884, UPSTREAM_QOS=1, WINDOW_MS=1000, SUMMARY_PREFIX=outpost/bench/summary/
# NODE_RED_DIR = the folder holding node_modules/node-red (default: this script's folder).
here=$(cd "$(dirname "$0")" && pwd)
export MQTT_PORT="${MQTT_PORT:-1883}"
export UPSTREAM_HOST="${UPSTREAM_HOST:-127.0.0.1}"
export UPSTREAM_PORT="${UPSTREAM_PORT:-1884}"
export UPSTREAM_QOS="${UPSTREAM_QOS:-1}"
export NODE_RED_DISABLE_TELEMETRY=1
exec node "${NODE_RED_DIR:-$here}/node_modules/node-red/red.js" --settings "$here/settings.cjs" "$@"
