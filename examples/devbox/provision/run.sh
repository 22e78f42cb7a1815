#!/bin/sh
# Provision the devbox: a message of the day, and a small web page that
# busybox httpd serves on guest port 80, forwarded to the host's 8080.
# Runs in a fresh directory with the payload/ folder beside it; a second
# run on the same boot changes nothing and says so.
set -eu

www=/var/www
if cmp -s "$CASTRA_PAYLOAD_DIR/index.html" "$www/index.html" &&
    wget -q -O /dev/null http://127.0.0.1/ 2>/dev/null; then
	echo "already provisioned"
	echo "Castra:noop"
	exit 0
fi

mkdir -p "$www"
cp "$CASTRA_PAYLOAD_DIR/index.html" "$www/index.html"
printf '%s\n\nThis is %s, provisioned by castra (run %s).\n' \
    "$GREETING" "$CASTRA_VM" "$CASTRA_RUN_ID" >/etc/motd
busybox httpd -p 80 -h "$www"
echo "wrote /etc/motd; serving $www on port 80"
