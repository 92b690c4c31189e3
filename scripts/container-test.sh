#!/usr/bin/env bash
# Builds the container image (Containerfile) and tries it for real (issue 14 §1):
# embedded mode with a volume, and server mode on the machine's PostgreSQL and Redis;
# in each, discovery, a client-credentials token, a restart that keeps the data, and a
# clean SIGTERM (exit 0). compose.yaml is validated first by a compose implementation,
# Debian's docker-compose 1.29 (`config -q` parses, interpolates .env.example and checks
# every option; it needs no daemon): Debian 12's podman-compose 1.0.3 has no `config`,
# and its --dry-run creates volumes and networks. test/compose.test.ts also checks it
# against the Compose Specification's schema and Enot ID's configuration rules.
#
#   scripts/container-test.sh            needs podman, runc, debootstrap, docker-compose (Debian)
#
# No public registry is reachable on these machines: the base image is made from
# Debian's packages (debootstrap) once and kept as localhost/debian-min:bookworm.
# podman settings these machines need: ../shared/recipes/containers.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
IMAGE=localhost/enot-id:test
BASE=localhost/debian-min:bookworm
IAT="container-test-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
RUN_ID="$(head -c 5 /dev/urandom | od -An -tx1 | tr -d ' \n')"
work=$(mktemp -d)
conf="$work/containers.conf"
cat > "$conf" <<'CONF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
CONF
export CONTAINERS_CONF="$conf"
# podman 4.3 reports at error level that it cannot reach systemd for healthcheck timers
# (these machines run no systemd); the healthcheck is run by hand, so that line is dropped.
pm() { podman --runtime runc "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }
say() { printf '== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

containers=()
cleanup() {
  for c in "${containers[@]}"; do pm rm -f "$c" >/dev/null 2>&1 || true; done
  pm volume rm -f "enot-test-$RUN_ID" >/dev/null 2>&1 || true
  psql "$DATABASE_URL" -qc "drop schema if exists ctest_$RUN_ID cascade; drop schema if exists ctest_${RUN_ID}_jobs cascade" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

for tool in podman runc debootstrap docker-compose; do command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install -y podman runc debootstrap docker-compose)"; done

say "compose.yaml: docker-compose config, with .env.example as .env"
mkdir "$work/compose"
cp compose.yaml "$work/compose/" && cp .env.example "$work/compose/.env"
(cd "$work/compose" && docker-compose config -q) || fail "compose.yaml is not valid for docker-compose"

if ! pm image exists "$BASE"; then
  say "base image $BASE from Debian's packages (debootstrap, a few minutes)"
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  rootfs="$work/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; fail debootstrap; }
  tar -C "$rootfs" -c . | pm import - "$BASE" >/dev/null
  rm -rf "$rootfs"
fi

say "build $IMAGE (BASE=$BASE)"
started=$(date +%s)
# The machine's CA bundle goes into the build (not the image): npm's registry may be
# reached through a TLS-inspecting proxy whose CA only the host trusts.
ca=(); [ -r /etc/ssl/certs/ca-certificates.crt ] && ca=(-v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro --build-arg EXTRA_CA_CERTS=/run/host-ca.crt)
pm build --network host --format docker --build-arg "BASE=$BASE" "${ca[@]}" -t "$IMAGE" -f Containerfile . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "podman build"; }
size=$(pm image inspect "$IMAGE" --format '{{.Size}}')
say "built in $(( $(date +%s) - started )) s; image size $(( size / 1024 / 1024 )) MB"
[ "$(pm image inspect "$IMAGE" --format '{{.Config.User}}')" = "10001:10001" ] || fail "the image does not run as user 10001"
[ "$(pm image inspect "$IMAGE" --format '{{.Config.StopSignal}}')" = "SIGTERM" ] || fail "STOPSIGNAL is not SIGTERM"
pm image inspect "$IMAGE" --format '{{json .Config.Healthcheck}}' | grep -q healthz || fail "no HEALTHCHECK on /healthz"

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

wait_ready() { # url
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "$1/.well-known/openid-configuration" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

# Starts a container in the background; echoes its name.
start() { # name port extra-args...
  local name=$1 port=$2; shift 2
  # No healthcheck timer (podman would ask systemd, which these machines lack): the
  # image's HEALTHCHECK is run by hand below instead.
  pm run -d --name "$name" --network host --read-only --tmpfs /tmp --health-interval disable \
    -e "PORT=$port" -e "ISSUER=http://127.0.0.1:$port" -e ALLOW_DEV_OUTBOX=true -e "INITIAL_ACCESS_TOKEN=$IAT" \
    -e SHUTDOWN_TIMEOUT=5 "$@" "$IMAGE" >/dev/null
  containers+=("$name")
  wait_ready "http://127.0.0.1:$port" || { pm logs "$name" | tail -30; fail "$name did not answer discovery"; }
  pm healthcheck run "$name" >/dev/null || fail "$name: the image's HEALTHCHECK says unhealthy"
}

stop_cleanly() { # name
  pm stop -t 30 "$1" >/dev/null
  local code; code=$(pm inspect "$1" --format '{{.State.ExitCode}}')
  [ "$code" = 0 ] || { pm logs "$1" | tail -20; fail "$1 exited with $code after SIGTERM"; }
  pm logs "$1" 2>&1 | grep -q '"msg":"shutting down"' || fail "$1 did not log its graceful shutdown"
}

register() { # issuer -> "client_id client_secret"
  curl -fsS -X POST "$1/reg" -H 'content-type: application/json' -H "authorization: Bearer $IAT" \
    -d '{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic"}' \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s);console.log(c.client_id+" "+c.client_secret)})'
}

token() { # issuer id secret -> access token (fails unless 200)
  curl -fsS -X POST "$1/token" -u "$2:$3" -d grant_type=client_credentials \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const t=JSON.parse(s);if(!t.access_token)process.exit(1);console.log(t.access_token)})'
}

active() { # issuer id secret token -> exit 0 if active
  curl -fsS -X POST "$1/token/introspection" -u "$2:$3" --data-urlencode "token=$4" | grep -q '"active":true'
}

journey() { # mode name-prefix extra-args...
  local mode=$1 prefix=$2; shift 2
  local port; port=$(free_port)
  local issuer="http://127.0.0.1:$port"
  say "$mode: start"
  start "$prefix-1" "$port" "$@"
  read -r id secret < <(register "$issuer")
  local at; at=$(token "$issuer" "$id" "$secret") || fail "$mode: no client-credentials token"
  active "$issuer" "$id" "$secret" "$at" || fail "$mode: the token does not introspect as active"
  local jwks; jwks=$(curl -fsS "$issuer/jwks")
  say "$mode: token issued and active; SIGTERM"
  stop_cleanly "$prefix-1"
  say "$mode: restart on the same data"
  start "$prefix-2" "$port" "$@"
  [ "$(curl -fsS "$issuer/jwks")" = "$jwks" ] || fail "$mode: the signing keys changed across the restart"
  active "$issuer" "$id" "$secret" "$at" || fail "$mode: the token issued before the restart is not active after it"
  token "$issuer" "$id" "$secret" >/dev/null || fail "$mode: the client registered before the restart is gone"
  stop_cleanly "$prefix-2"
  say "$mode: ok (discovery, healthcheck, token, restart with data kept, clean SIGTERM)"
}

pm volume create "enot-test-$RUN_ID" >/dev/null
journey embedded "enot-embedded-$RUN_ID" -v "enot-test-$RUN_ID:/data"
journey server "enot-server-$RUN_ID" -e "DATABASE_URL=$DATABASE_URL" -e "DATABASE_SCHEMA=ctest_$RUN_ID" -e "REDIS_URL=$REDIS_URL" -e "REDIS_PREFIX=ctest:$RUN_ID:"

say "container test passed"
