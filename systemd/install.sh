#!/bin/sh
# Install smsactive as a hardened systemd service (run as root from the checkout: `make install`).
#
# Idempotent: run it again after `git pull` to upgrade. It never overwrites /etc/smsd/smsd.toml
# and never enables or starts the service; it prints the next steps instead.
#
# Environment:
#   DESTDIR=/some/dir        stage the files under that directory (packaging, tests); no user
#                            creation, no chown, no systemctl. Root is not required. A venv
#                            staged this way has DESTDIR in its script paths: not relocatable.
#   SMSD_INSTALL_SKIP_VENV=1 do not create /opt/smsd/venv or pip install (tests; files only).
#   PYTHON=python3           interpreter that creates the venv (3.11 or newer).
#   SMSD_SYSTEMD_VERSION=N   systemd version to install for (default: from `systemctl --version`).
set -eu

# Files we create must be readable by the smsd user (venv, unit) whatever root's umask is;
# secrets get explicit modes below.
umask 022

SRC=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
PYTHON=${PYTHON:-python3}
PREFIX=/opt/smsd
UNIT_DIR=/etc/systemd/system
SYSUSERS_DIR=/etc/sysusers.d
TMPFILES_DIR=/etc/tmpfiles.d
MODULES_DIR=/etc/modules-load.d
CONF_DIR=/etc/smsd

say() { printf 'smsd install: %s\n' "$*"; }
die() { printf 'smsd install: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
    die "run as root (sudo make install), or set DESTDIR to stage the files"
fi

systemd_version() {
    if [ -n "${SMSD_SYSTEMD_VERSION:-}" ]; then
        echo "$SMSD_SYSTEMD_VERSION"
    elif have systemctl; then
        systemctl --version 2>/dev/null | awk 'NR == 1 { print $2 + 0; exit }'
    else
        echo 0
    fi
}

# --- the application: a venv under /opt, installed (not editable) from this checkout ------------
# Not editable on purpose: the unit has ProtectHome=yes, so code left in /home or /root would be
# unreadable by the service.
if [ "${SMSD_INSTALL_SKIP_VENV:-0}" = 1 ]; then
    say "skipping the venv (SMSD_INSTALL_SKIP_VENV=1)"
else
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$PYTHON is older than 3.11"
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
        || die "$PYTHON cannot create venvs: apt install python3-venv"
    if [ ! -x "$DESTDIR$PREFIX/venv/bin/python" ]; then
        say "creating $PREFIX/venv"
        mkdir -p "$DESTDIR$PREFIX"
        "$PYTHON" -m venv "$DESTDIR$PREFIX/venv"
    fi
    say "installing smsactive from $SRC"
    "$DESTDIR$PREFIX/venv/bin/pip" install --quiet --disable-pip-version-check --upgrade "$SRC"
fi

# --- static files -----------------------------------------------------------------------------
install -d -m 0755 "$DESTDIR$UNIT_DIR" "$DESTDIR$SYSUSERS_DIR" "$DESTDIR$TMPFILES_DIR" \
    "$DESTDIR$MODULES_DIR" "$DESTDIR$PREFIX/share" "$DESTDIR$PREFIX/docs"
install -m 0644 "$SRC/systemd/smsd.service" "$DESTDIR$UNIT_DIR/smsd.service"
install -m 0644 "$SRC/systemd/smsd-web.service" "$DESTDIR$UNIT_DIR/smsd-web.service"
install -m 0644 "$SRC/systemd/smsd.sysusers" "$DESTDIR$SYSUSERS_DIR/smsd.conf"
install -m 0644 "$SRC/systemd/smsd.tmpfiles" "$DESTDIR$TMPFILES_DIR/smsd.conf"
install -m 0644 "$SRC/systemd/smsd-modules.conf" "$DESTDIR$MODULES_DIR/smsd.conf"
# Examples for the operator to copy and edit; never active by themselves.
install -m 0644 "$SRC/systemd/99-smsd-modem.rules" "$DESTDIR$PREFIX/share/99-smsd-modem.rules"
install -m 0644 "$SRC/systemd/smsd.toml.example" "$DESTDIR$PREFIX/share/smsd.toml.example"
install -m 0644 "$SRC/docs/DEPLOYING.md" "$DESTDIR$PREFIX/docs/DEPLOYING.md"
install -m 0644 "$SRC/docs/WEB.md" "$DESTDIR$PREFIX/docs/WEB.md"

# Restart back-off needs keys that systemd learned in version 254.
DROPIN_DIR=$DESTDIR$UNIT_DIR/smsd.service.d
if [ "$(systemd_version)" -ge 254 ]; then
    install -d -m 0755 "$DROPIN_DIR"
    install -m 0644 "$SRC/systemd/smsd-backoff.conf" "$DROPIN_DIR/10-backoff.conf"
elif [ -f "$DROPIN_DIR/10-backoff.conf" ]; then
    rm -f "$DROPIN_DIR/10-backoff.conf"
fi

# --- users, directories, configuration --------------------------------------------------------
if [ -z "$DESTDIR" ]; then
    if have systemd-sysusers; then
        systemd-sysusers "$SYSUSERS_DIR/smsd.conf"
    else
        getent group dialout >/dev/null || groupadd --system dialout
        getent passwd smsd >/dev/null || useradd --system --user-group --groups dialout \
            --home-dir /var/lib/smsd --no-create-home --shell /usr/sbin/nologin smsd
    fi
    if have systemd-tmpfiles; then
        systemd-tmpfiles --create "$TMPFILES_DIR/smsd.conf"
    else
        install -d -m 0700 -o smsd -g smsd /var/lib/smsd
        install -d -m 0750 -o root -g smsd "$CONF_DIR"
    fi
else
    install -d -m 0750 "$DESTDIR$CONF_DIR"
    install -d -m 0700 "$DESTDIR/var/lib/smsd"
fi

if [ -e "$DESTDIR$CONF_DIR/smsd.toml" ]; then
    say "keeping the existing $CONF_DIR/smsd.toml"
else
    say "writing $CONF_DIR/smsd.toml from the example: edit it before starting"
    install -m 0640 "$SRC/systemd/smsd.toml.example" "$DESTDIR$CONF_DIR/smsd.toml"
    if [ -z "$DESTDIR" ]; then
        chown root:smsd "$CONF_DIR/smsd.toml"
    fi
fi

if [ -z "$DESTDIR" ] && have systemctl && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi

cat <<EOF

smsactive is installed (the service is neither enabled nor started).
Next steps:
  1. Find the modem's AT port:    ls -l /dev/serial/by-id/
     (optional stable name:        $PREFIX/share/99-smsd-modem.rules -> /etc/udev/rules.d/)
  2. Edit $CONF_DIR/smsd.toml:      [[modems]] url and pin, [gateway] own_number
  3. Create the database, check:  sudo -u smsd $PREFIX/venv/bin/smsd --config $CONF_DIR/smsd.toml init
                                  sudo -u smsd $PREFIX/venv/bin/smsd --config $CONF_DIR/smsd.toml doctor
  4. Start it at boot and now:    systemctl enable --now smsd
  5. Watch the logs:              journalctl -u smsd -f -o cat
  6. The web portal (optional):   systemctl enable --now smsd-web, behind a TLS proxy
See $PREFIX/docs/DEPLOYING.md.
EOF
