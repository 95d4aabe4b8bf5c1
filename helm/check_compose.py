"""Checks docker-compose.yml without Docker: it parses as YAML, and so does its commented split
alternative (the lines between the BEGIN/END markers with one leading '#' removed), and the hub
services run the binary with a database and, when split, every other subgraph's URL (and the web
pages the gateway's).

usage: python check_compose.py docker-compose.yml
"""

import re
import sys

import yaml

SUBGRAPH_PORTS = {"plans": 4001, "indicators": 4002, "people": 4003, "events": 4004}
EXPECTED = {
    "as is": {"postgres", "redis", "hub"},
    "split alternative": {"postgres", "redis", "hub", "migrate", *SUBGRAPH_PORTS, "gateway", "web"},
}


def uncomment(text):
    out, inside = [], False
    for line in text.splitlines():
        if "BEGIN split alternative" in line:
            inside = True
        elif "END split alternative" in line:
            inside = False
        elif inside:
            line = re.sub(r"^(\s*)# ?", r"\1", line)
        out.append(line)
    return "\n".join(out)


def check(name, doc):
    services = yaml.safe_load(doc)["services"]
    assert set(services) == EXPECTED[name], f"{name}: services {sorted(services)}"
    for svc, spec in services.items():
        if svc in ("postgres", "redis"):
            continue
        cmd = spec["command"]
        assert cmd[0] in ("up", "serve", "migrate"), f"{name}/{svc}: command {cmd}"
        env = spec["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), f"{name}/{svc}: DATABASE_URL"
        if cmd[:2] == ["serve", "--target"] and cmd[2] != "all":
            for sub, port in SUBGRAPH_PORTS.items():
                if sub != cmd[2]:
                    want = f"http://{sub}:{port}/graphql"
                    got = env.get(f"ROADMAP_{sub.upper()}_URL")
                    assert got == want, f"{name}/{svc}: ROADMAP_{sub.upper()}_URL is {got}, expected {want}"
            if cmd[2] == "web":
                got = env.get("ROADMAP_GATEWAY_URL")
                assert got == "http://gateway:4000/graphql", f"{name}/{svc}: ROADMAP_GATEWAY_URL is {got}"
    print(f"{name}: {', '.join(sorted(services))}")


def main(path):
    with open(path) as f:
        text = f.read()
    check("as is", text)
    check("split alternative", uncomment(text))


if __name__ == "__main__":
    main(sys.argv[1])
