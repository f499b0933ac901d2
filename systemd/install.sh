#!/bin/sh
# Installs Outpost as a systemd service on a Raspberry Pi (or any systemd Linux), from a checkout
# that has been built (npm ci && npm run build). Run as root from the checkout:
#   sudo systemd/install.sh [/etc/outpost/outpost.yaml]
# Idempotent: an existing config or env file is never overwritten.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
config=${1:-/etc/outpost/outpost.yaml}

[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
command -v node >/dev/null || { echo "install.sh: Node.js 20 or newer is needed (Bookworm's own nodejs is 18)" >&2; exit 1; }
[ -f "$here/dist/cli/main.js" ] || { echo "install.sh: build first: npm ci && npm run build" >&2; exit 1; }

# the program, where the unit expects it
if [ "$here" != /opt/outpost ]; then
  mkdir -p /opt/outpost
  cp -a "$here/dist" "$here/node_modules" "$here/package.json" "$here/nab" /opt/outpost/
fi

# a dedicated user, in the gpio group where there is one
id outpost >/dev/null 2>&1 || useradd --system --home-dir /var/lib/outpost --shell /usr/sbin/nologin outpost
getent group gpio >/dev/null && usermod -aG gpio outpost

# config and secrets: readable by the service, not by everyone
install -d -m 0750 -g outpost /etc/outpost
[ -f "$config" ] || install -m 0640 -g outpost "$here/device-configs/pi-greenhouse.yaml" "$config"
[ -f /etc/outpost/outpost.env ] || install -m 0640 -g outpost /dev/null /etc/outpost/outpost.env

# node's path in the unit: this machine's
sed "s#/usr/bin/node #$(command -v node) #; s#--config /etc/outpost/outpost.yaml#--config $config#" "$here/systemd/outpost.service" > /etc/systemd/system/outpost.service
systemd-analyze verify /etc/systemd/system/outpost.service
systemctl daemon-reload
echo "installed. Edit $config and /etc/outpost/outpost.env, check with:"
echo "  node /opt/outpost/dist/cli/main.js check-config $config"
echo "then: systemctl enable --now outpost && journalctl -u outpost -f"
