#!/usr/bin/env bash
# Installs the Debian packages that provide the commands named on the command
# line, as command:package pairs, when a command is missing. Only what is
# missing is installed (one apt-get run), so a machine that has them pays
# nothing. Without root or sudo it says what is missing and exits 0: the tests
# that need a command skip with a message (and fail under CI=true).
#
# Installing a package that ships a daemon (knot, the blackbox exporter)
# starts its system service where systemd runs: it is stopped and disabled
# again, because the tests and benchmarks run their own, on free ports.
#
#   scripts/debian-tools.sh knotd:knot kdig:knot-dnsutils chromium:chromium
set -euo pipefail

services="knot prometheus-blackbox-exporter"
missing=""
for pair in "$@"; do
	cmd=${pair%%:*} pkg=${pair##*:}
	command -v "$cmd" >/dev/null 2>&1 && continue
	case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done
[ -z "$missing" ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
	if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
		echo "debian-tools: missing$missing, and no root or sudo to install them; the tests that need them will say so" >&2
		exit 0
	fi
	sudo="sudo -n"
fi
echo "debian-tools: installing$missing"
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing; }; then
	echo "debian-tools: could not install$missing; the tests that need them will say so" >&2
	exit 0
fi
if command -v systemctl >/dev/null 2>&1; then
	for svc in $services; do
		case " $missing " in *" $svc "*)
			if systemctl is-active --quiet "$svc" 2>/dev/null || systemctl is-enabled --quiet "$svc" 2>/dev/null; then
				$sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
			fi ;;
		esac
	done
fi
