"""Checks that a `helm template` rendering of the roadmap-hub chart hangs together.

Schema validation (kubernetes-validate) says each object is well formed; this says they fit each
other and the binary: every target runs in exactly one Deployment, each Deployment's args, ports
and ROADMAP_* variables agree, every ROADMAP_<SUBGRAPH>_URL names a rendered Service port that
selects the Deployment running that subgraph, the web pages find the gateway the same way and,
alone in a Deployment, get no database, Redis or gateway secret, probes use the right paths, the router config is
mounted where ROUTER_CONFIG_FILE_PATH points, pods are non-root with a read-only root filesystem,
HPAs and PDBs point at rendered Deployments, and the migration hook runs `migrate`.

usage: python check_rendered.py RENDERED.yaml   (exit 1 and one line per problem on failure)
"""

import posixpath
import re
import sys

import yaml

TARGETS = ["plans", "indicators", "people", "events", "gateway", "web"]
SUBGRAPHS = ["plans", "indicators", "people", "events"]

problems = []


def problem(msg):
    problems.append(msg)


def env_of(container):
    out = {}
    for e in container.get("env", []):
        out[e["name"]] = e.get("value", e.get("valueFrom"))
    return out


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def main(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    deployments = by_kind.get("Deployment", [])
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    configmaps = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
    runs = {}  # target -> deployment name

    for dep in deployments:
        name = dep["metadata"]["name"]
        pod = dep["spec"]["template"]["spec"]
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        if not selects(dep["spec"]["selector"]["matchLabels"], pod_labels):
            problem(f"{name}: selector does not match its pod labels")
        for label in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                      "app.kubernetes.io/component", "app.kubernetes.io/part-of",
                      "app.kubernetes.io/managed-by", "helm.sh/chart"):
            if label not in dep["metadata"]["labels"]:
                problem(f"{name}: label {label} missing")
        if pod.get("enableServiceLinks") is not False:
            problem(f"{name}: enableServiceLinks must be false (service env vars clash with ROADMAP_*_PORT)")
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problem(f"{name}: pod must run as non-root")
        (c,) = pod["containers"]
        sc = c.get("securityContext", {})
        if not sc.get("readOnlyRootFilesystem") or sc.get("allowPrivilegeEscalation") is not False:
            problem(f"{name}: container needs readOnlyRootFilesystem and no privilege escalation")
        args = c.get("args", [])
        if len(args) != 3 or args[:2] != ["serve", "--target"]:
            problem(f"{name}: args {args}, expected serve --target <targets>")
            continue
        targets = args[2].split(",")
        if targets != [t for t in TARGETS if t in targets]:
            problem(f"{name}: targets {targets} unknown or not in canonical order")
        for t in targets:
            if t in runs:
                problem(f"target {t} runs in both {runs[t]} and {name}")
            runs[t] = name
        env = env_of(c)
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        if env.get("ROADMAP_HOST") != "0.0.0.0":
            problem(f"{name}: ROADMAP_HOST must be 0.0.0.0")
        if set(ports) != set(targets):
            problem(f"{name}: container ports {sorted(ports)} != targets {targets}")
        for t in targets:
            if env.get(f"ROADMAP_{t.upper()}_PORT") != str(ports.get(t)):
                problem(f"{name}: ROADMAP_{t.upper()}_PORT != containerPort of {t}")
        subgraphs = [t for t in targets if t in SUBGRAPHS]
        backend = bool(subgraphs) or "gateway" in targets
        for s in SUBGRAPHS:
            var = f"ROADMAP_{s.upper()}_URL"
            if not backend and "web" in targets and s == "plans":
                # The web pages alone forward /export/ to the plans target (and call nothing else).
                if var not in env:
                    problem(f"{name}: runs the web pages alone and lacks {var} (the plan exports)")
            elif s in targets or not backend:
                if var in env:
                    problem(f"{name}: {'runs ' + s if s in targets else 'runs only the web pages'} yet sets {var}")
            elif var not in env:
                problem(f"{name}: does not run {s} and lacks {var}")
        wants_gateway_url = "web" in targets and "gateway" not in targets
        if wants_gateway_url != ("ROADMAP_GATEWAY_URL" in env):
            problem(f"{name}: ROADMAP_GATEWAY_URL {'missing' if wants_gateway_url else 'set'} "
                    f"(the web pages without the gateway need it, nothing else does)")
        if subgraphs and not isinstance(env.get("DATABASE_URL"), dict):
            problem(f"{name}: runs subgraphs, needs DATABASE_URL from a Secret")
        if not backend:
            for var in ("DATABASE_URL", "REDIS_URL", "ROADMAP_GATEWAY_SECRET"):
                if var in env:
                    problem(f"{name}: runs only the web pages yet gets {var}")
        elif not isinstance(env.get("ROADMAP_GATEWAY_SECRET"), dict):
            problem(f"{name}: needs ROADMAP_GATEWAY_SECRET from a Secret")
        probe_port = "gateway" if "gateway" in targets else (subgraphs[0] if subgraphs else "web")
        expect = {"startupProbe": "/health", "livenessProbe": "/health",
                  "readinessProbe": "/readiness" if "gateway" in targets else "/ready"}
        for probe, want in expect.items():
            got = c.get(probe, {}).get("httpGet", {})
            if got.get("path") != want or got.get("port") != probe_port:
                problem(f"{name}: {probe} is {got}, expected {want} on port {probe_port}")
        if "gateway" in targets:
            cfg = env.get("ROUTER_CONFIG_FILE_PATH", "")
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            vol = mounts.get(posixpath.dirname(cfg))
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            cm_name = volumes.get(vol, {}).get("configMap", {}).get("name")
            cm = configmaps.get(cm_name, {}).get("data", {})
            if posixpath.basename(cfg) not in cm or "supergraph.graphql" not in cm:
                problem(f"{name}: ROUTER_CONFIG_FILE_PATH {cfg!r} is not a mounted ConfigMap with the supergraph")
            elif not re.search(r"^\s+path:\s*supergraph\.graphql\s*$", cm[posixpath.basename(cfg)], re.M):
                problem(f"{name}: the mounted router config does not point at supergraph.graphql beside it")
        dep["_targets"], dep["_ports"], dep["_env"] = targets, ports, env

    for t in TARGETS:
        if t not in runs:
            problem(f"no Deployment runs {t}")

    # Every URL points at a Service port that selects the Deployment running that target.
    for dep in deployments:
        for s in SUBGRAPHS + ["gateway"]:
            url = dep.get("_env", {}).get(f"ROADMAP_{s.upper()}_URL")
            if not url:
                continue
            m = re.fullmatch(r"http://([a-z0-9-]+):(\d+)/graphql", url)
            svc = services.get(m.group(1)) if m else None
            if not svc:
                problem(f"{dep['metadata']['name']}: {s} URL {url} names no rendered Service")
                continue
            port = next((p for p in svc["spec"]["ports"] if p["port"] == int(m.group(2))), None)
            owner = next(d for d in deployments if d["metadata"]["name"] == runs.get(s))
            if not port or port["targetPort"] != s or not selects(
                    svc["spec"]["selector"], owner["spec"]["template"]["metadata"]["labels"]):
                problem(f"{dep['metadata']['name']}: {s} URL {url} does not reach {runs.get(s)}:{s}")

    dep_names = {d["metadata"]["name"]: d for d in deployments}
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        target = dep_names.get(hpa["spec"]["scaleTargetRef"]["name"])
        if not target:
            problem(f"HPA {hpa['metadata']['name']} scales no rendered Deployment")
        elif "replicas" in target["spec"]:
            problem(f"{target['metadata']['name']}: has an HPA, so it must not set replicas")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        sel = pdb["spec"]["selector"]["matchLabels"]
        if sum(selects(sel, d["spec"]["template"]["metadata"]["labels"]) for d in deployments) != 1:
            problem(f"PDB {pdb['metadata']['name']} must select exactly one Deployment")

    jobs = by_kind.get("Job", [])
    for job in jobs:
        ann = job["metadata"].get("annotations", {})
        (c,) = job["spec"]["template"]["spec"]["containers"]
        if c.get("args") != ["migrate"] or "pre-install" not in ann.get("helm.sh/hook", ""):
            problem(f"Job {job['metadata']['name']}: expected a pre-install/pre-upgrade hook running migrate")
        if job["spec"]["template"]["spec"].get("enableServiceLinks") is not False:
            problem(f"Job {job['metadata']['name']}: enableServiceLinks must be false")

    for d in docs:
        if "namespace" in d["metadata"]:
            problem(f"{d['kind']} {d['metadata']['name']}: hard-coded namespace")

    for p in problems:
        print(p)
    print(f"{len(deployments)} deployments, {len(services)} services, {len(jobs)} jobs: "
          f"{'ok' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
