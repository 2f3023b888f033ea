#!/usr/bin/env bash
# make tools: the CLIs the acceptance and module tests drive, built from the
# Go module proxy so nothing is downloaded from anywhere else (DESIGN §3).
# Pinned versions make every machine test the same thing: Terraform 1.5.7
# (the oldest we support) and OpenTofu 1.8.8 (provider functions), and the
# etcd server and etcdctl that tools/etcd/go.mod pins (the multi-node store);
# besides them the newest OpenTofu that builds (tofu-newest, see below).
# Built once per machine into a per-user cache (clones and CI runs share
# it) and linked into .tools/bin.
set -euo pipefail
# A TF_CLI_CONFIG_FILE naming a missing file only makes every run warn.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then unset TF_CLI_CONFIG_FILE; fi
cd "$(dirname "$0")/.."
TERRAFORM_VERSION=${TERRAFORM_VERSION:-1.5.7}
OPENTOFU_VERSION=${OPENTOFU_VERSION:-1.8.8}
cache_root=${FAILOVER_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/failover-tools}
cache=$cache_root/terraform-$TERRAFORM_VERSION-tofu-$OPENTOFU_VERSION
bin="$cache/bin"
# The etcd version has one source of truth: tools/etcd/go.mod.
ETCD_VERSION=$(cd tools/etcd && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
etcd_bin="$cache_root/etcd-$ETCD_VERSION/bin"
mkdir -p "$bin" "$etcd_bin" "$PWD/.tools/bin"

# Read the whole version output first: with pipefail, `| head` or `grep -q`
# closing the pipe early would fail the check with SIGPIPE.
version_of() { "$1" version 2>/dev/null | sed -n 1p; }
have() { [ -x "$bin/$1" ] && [ "$(version_of "$bin/$1")" = "$(case $1 in terraform) echo Terraform;; tofu) echo OpenTofu;; esac) v$2" ]; }

if have terraform "$TERRAFORM_VERSION"; then
  echo "tools: terraform $TERRAFORM_VERSION present"
else
  echo "tools: building terraform $TERRAFORM_VERSION from the Go module proxy (a few minutes, once)"
  GOBIN="$bin" GOFLAGS=-buildvcs=false go install "github.com/hashicorp/terraform@v$TERRAFORM_VERSION"
fi

if have tofu "$OPENTOFU_VERSION"; then
  echo "tools: tofu $OPENTOFU_VERSION present"
else
  echo "tools: building OpenTofu $OPENTOFU_VERSION from the Go module proxy (about 6 minutes on 2 cores, once)"
  dir=$(go mod download -json "github.com/opentofu/opentofu@v$OPENTOFU_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "tools: go mod download did not report a directory for opentofu" >&2; exit 1; }
  (cd "$dir" && GOFLAGS="-buildvcs=false" CGO_ENABLED=0 go build \
    -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$bin/tofu" ./cmd/tofu)
fi

# etcd: `go install go.etcd.io/etcd/server/v3@…` is refused (its go.mod has
# replace directives), so tools/etcd is a module of its own whose main calls
# etcdmain.Main; etcdctl is a `tool` of that module. Same versions, one
# go.sum. Their first lines: "etcd Version: 3.7.4", "etcdctl version: 3.7.4".
etcd_have() { [ -x "$etcd_bin/$1" ] && [ "$("$etcd_bin/$1" "$2" 2>/dev/null | sed -n 1p)" = "$1 $3 ${ETCD_VERSION#v}" ]; }
if etcd_have etcd --version Version: && etcd_have etcdctl version version:; then
  echo "tools: etcd $ETCD_VERSION present"
else
  echo "tools: building etcd $ETCD_VERSION and etcdctl from the Go module proxy (about 2 minutes on 2 cores, once)"
  (cd tools/etcd && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" -o "$etcd_bin/etcd" . \
    && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" -o "$etcd_bin/etcdctl" go.etcd.io/etcd/etcdctl/v3)
fi

ln -sf "$bin/terraform" "$PWD/.tools/bin/terraform"
ln -sf "$bin/tofu" "$PWD/.tools/bin/tofu"

# The newest OpenTofu the Go module proxy serves that builds with this Go
# (1.11.7 on 2026-12-05; 1.12.x is refused by the proxy), so the suites
# also run on what teams install today. Cached separately: bumping it does
# not rebuild the pinned pair. OPENTOFU_NEWEST_VERSION= (empty) skips it.
OPENTOFU_NEWEST_VERSION=${OPENTOFU_NEWEST_VERSION-1.11.7}
if [ -n "$OPENTOFU_NEWEST_VERSION" ]; then
  newest=$cache_root/tofu-$OPENTOFU_NEWEST_VERSION/bin
  mkdir -p "$newest"
  if [ -x "$newest/tofu" ] && [ "$(version_of "$newest/tofu")" = "OpenTofu v$OPENTOFU_NEWEST_VERSION" ]; then
    echo "tools: tofu $OPENTOFU_NEWEST_VERSION present"
  else
    echo "tools: building OpenTofu $OPENTOFU_NEWEST_VERSION from the Go module proxy (about 8 minutes on 2 cores, once)"
    dir=$(go mod download -json "github.com/opentofu/opentofu@v$OPENTOFU_NEWEST_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -n "$dir" ] || { echo "tools: go mod download did not report a directory for opentofu $OPENTOFU_NEWEST_VERSION" >&2; exit 1; }
    (cd "$dir" && GOFLAGS="-buildvcs=false" CGO_ENABLED=0 go build \
      -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$newest/tofu" ./cmd/tofu)
  fi
  ln -sf "$newest/tofu" "$PWD/.tools/bin/tofu-newest"
fi
ln -sf "$etcd_bin/etcd" "$PWD/.tools/bin/etcd"
ln -sf "$etcd_bin/etcdctl" "$PWD/.tools/bin/etcdctl"
version_of .tools/bin/terraform
version_of .tools/bin/tofu
[ -z "$OPENTOFU_NEWEST_VERSION" ] || version_of .tools/bin/tofu-newest
.tools/bin/etcd --version | sed -n 1p

# The Debian packages the tests drive (knot, chromium, promtool, …) are
# installed by scripts/debian-tools.sh, which `make tools` runs first.
