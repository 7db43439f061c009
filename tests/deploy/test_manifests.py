"""deploy/'s manifests and Containerfile, checked offline.

- Every Kubernetes object validates against the Kubernetes JSON schemas that
  kubernetes-validate bundles (strict: an unknown field fails); the KServe
  objects, which those schemas lack, against kserve.schema.json here, whose
  embedded Kubernetes types resolve to the same schemas.
- Broken copies of the manifests (a misspelt field, a port that is no number,
  a value outside its enum) are refused, so the check above can fail.
- Every command line they give cocktail-serve (the Deployment's, the KServe
  runtime's, the Containerfile's CMD) starts the real binary on a small
  repository: it listens, answers the probes' paths, exports the metrics the
  autoscaler's rule reads, and exits 0 on SIGTERM.
- The pieces agree: probe and Service ports name container ports, the HPA's
  metric is the adapter rule's, the Containerfile exposes Triton's ports,
  runs as a user that is not root, and checks /v2/health/ready.

Run by run_validate_test.sh (CTest deploy/validate) in tests/deploy/.venv.
"""
import copy
import glob
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import importlib_resources
import jsonschema
import kubernetes_validate
import pytest
import yaml
from referencing import Registry, Resource

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEPLOY = os.path.join(REPO, "deploy")
SERVE = os.environ.get("COCKTAIL_SERVE", os.path.join(REPO, "build", "server", "cocktail-serve"))
# The oldest Kubernetes the manifests are meant for: every field they use must exist there.
K8S_VERSION = "1.29"
KSERVE_KINDS = {"ClusterServingRuntime", "ServingRuntime", "InferenceService"}
# KServe's own kserve-tritonserver ClusterServingRuntime (config/runtimes/kserve-tritonserver.yaml)
# starts tritonserver with exactly these; ours must take them unchanged.
KSERVE_TRITON_FLAGS = ["--model-store=/mnt/models", "--grpc-port=9000", "--http-port=8080",
                       "--allow-grpc=true", "--allow-http=true"]

sys.path.insert(0, os.path.join(REPO, "tests", "server"))
import make_repository  # noqa: E402  (the server tests' models)


# ---- validation ------------------------------------------------------------------------------

def kubernetes_definitions():
    """The bundled Kubernetes definitions (_definitions.json) of K8S_VERSION, strict flavour."""
    root = importlib_resources.files("kubernetes_validate") / "kubernetes-json-schema"
    folder = next(d for d in sorted(p.name for p in root.iterdir())
                  if d.startswith(f"v{K8S_VERSION}.") and d.endswith("-local-strict"))
    with importlib_resources.as_file(root / folder / "_definitions.json") as path:
        with open(path) as f:
            return json.load(f)


def kserve_validator():
    with open(os.path.join(HERE, "kserve.schema.json")) as f:
        schema = json.load(f)
    registry = Resource.from_contents(kubernetes_definitions()) @ Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


KSERVE = kserve_validator()


def validate_object(obj):
    """Raises ValueError naming the first problem of one Kubernetes object."""
    if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
        raise ValueError("not a Kubernetes object (no kind or apiVersion)")
    if obj["kind"] in KSERVE_KINDS:
        best = jsonschema.exceptions.best_match(KSERVE.iter_errors(obj), key=jsonschema.exceptions.relevance)
        if best is not None:
            where = "/".join(str(p) for p in best.absolute_path) or "(top)"
            raise ValueError(f"{obj['kind']} at {where}: {best.message}")
        return
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise ValueError(f"{obj['kind']} at {where}: {e.message}") from None
    except kubernetes_validate.SchemaNotFoundError as e:
        raise ValueError(e.message) from None


def load_documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def validate_file(path):
    """Every object of a manifest file; raises ValueError naming the file and the problem."""
    try:
        docs = load_documents(path)
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not YAML: {e}") from None
    if not docs:
        raise ValueError(f"{path}: no objects")
    for i, doc in enumerate(docs):
        try:
            validate_object(doc)
        except ValueError as e:
            raise ValueError(f"{path}: object {i}: {e}") from None
    return docs


MANIFESTS = sorted(glob.glob(os.path.join(DEPLOY, "**", "*.yaml"), recursive=True))


def objects(kind):
    found = [d for p in MANIFESTS for d in load_documents(p) if d.get("kind") == kind]
    assert found, f"no {kind} in deploy/"
    return found


@pytest.mark.parametrize("path", MANIFESTS, ids=[os.path.relpath(p, DEPLOY) for p in MANIFESTS])
def test_manifest_is_valid(path):
    validate_file(path)


def test_every_kind_is_there():
    kinds = {d["kind"] for p in MANIFESTS for d in load_documents(p)}
    assert kinds >= {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap",
                     "ClusterServingRuntime", "InferenceService"}, kinds


# (file, text in it, replacement, what the error must say): each a broken copy that must be refused.
BROKEN = [
    ("kubernetes/cocktail-serve.yaml", "readinessProbe:", "readinesProbe:", "readinesProbe"),
    ("kubernetes/cocktail-serve.yaml", "containerPort: 8000", "containerPort: eight-thousand", "eight-thousand"),
    ("kubernetes/cocktail-serve.yaml", "  selector:\n    matchLabels:", "  selectr:\n    matchLabels:", "'selector' is a required"),
    ("kubernetes/cocktail-serve.yaml", "      targetPort: grpc\n", "      targetPort: [grpc]\n", "grpc"),
    ("kubernetes/hpa.yaml", "minReplicas: 1", "minReplicas: one", "one"),
    ("kubernetes/hpa.yaml", "kind: HorizontalPodAutoscaler", "kind: HorizontalPodAutoScaler", "HorizontalPodAutoScaler"),
    ("kubernetes/prometheus-adapter.yaml", "  config.yaml: |", "  config.yaml:\n    rules: []\n  other: |", "rules"),
    ("kserve/cluster-serving-runtime.yaml", "supportedModelFormats:", "supportedModelFormat:", "supportedModelFormat"),
    ("kserve/cluster-serving-runtime.yaml", "    - grpc-v2\n", "    - grpc-v3\n", "grpc-v3"),
    ("kserve/cluster-serving-runtime.yaml", "      image: ", "      imagee: ", "imagee"),
    ("kserve/inference-service.yaml", "scaleMetric: concurrency", "scaleMetric: qps", "qps"),
    ("kserve/inference-service.yaml", "      modelFormat:\n        name: pytorch\n", "      modelFormat: {}\n", "name"),
    ("kserve/inference-service.yaml", "          memory: 4Gi", "          memory: [4Gi]", "4Gi"),
]


@pytest.mark.parametrize("rel,old,new,says", BROKEN, ids=[f"{r}:{n.strip()[:24]}" for r, _, n, _ in BROKEN])
def test_broken_copy_is_refused(tmp_path, rel, old, new, says):
    with open(os.path.join(DEPLOY, rel)) as f:
        text = f.read()
    assert text.count(old) >= 1, f"{rel} no longer has {old!r}: update this case"
    broken = tmp_path / os.path.basename(rel)
    broken.write_text(text.replace(old, new, 1))
    with pytest.raises(ValueError) as e:
        validate_file(str(broken))
    assert says in str(e.value), str(e.value)


# ---- the command lines -------------------------------------------------------------------------

def containerfile():
    with open(os.path.join(DEPLOY, "Containerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    return [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]


def command_lines():
    """(where, argv) for every cocktail-serve command line deploy/ gives."""
    found = []
    for kind in ("Deployment", "ClusterServingRuntime"):
        for obj in objects(kind):
            spec = obj["spec"]["template"]["spec"] if kind == "Deployment" else obj["spec"]
            for c in spec["containers"]:
                found.append((f"{kind} {obj['metadata']['name']}", list(c.get("command", [])) + list(c["args"])))
    cmd = [l for l in containerfile() if l.startswith("CMD ")]
    assert len(cmd) == 1, cmd
    found.append(("Containerfile CMD", json.loads(cmd[0][4:])))
    return found


COMMAND_LINES = command_lines()


def local_argv(argv, repo, cache):
    """The same flags for a run here: the repository and cache swapped for local folders, ports for free ones."""
    assert argv[0] in ("cocktail-serve", "tritonserver"), argv
    out = [SERVE]
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        assert eq, f"{arg}: write flags as --flag=value in deploy/ (one list item each)"
        if name in ("--model-repository", "--model-store"):
            value = repo
        elif name == "--cache-dir":
            value = cache
        elif name in ("--http-port", "--grpc-port", "--metrics-port"):
            value = "0"
        out.append(f"{name}={value}")
    return out + ["--http-address=127.0.0.1", "--grpc-address=127.0.0.1", "--metrics-address=127.0.0.1"]


@pytest.fixture(scope="module")
def model_repository(tmp_path_factory):
    d = tmp_path_factory.mktemp("deploy")
    repo = d / "models"
    make_repository.write(str(repo), "addmul", make_repository.AddMul(), make_repository.ADDMUL_CONFIG)
    return str(repo), str(d / "cache")


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.mark.parametrize("where,argv", COMMAND_LINES, ids=[w for w, _ in COMMAND_LINES])
def test_command_line_serves(model_repository, where, argv):
    repo, cache = model_repository
    cmd = local_argv(argv, repo, cache)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = ""
    try:
        for line in proc.stdout:
            log += line
            if "listening:" in line:
                break
        assert "listening:" in log, f"{where}: {shlex.join(cmd)} did not start:\n{log}"
        ports = dict(re.findall(r"(http|grpc|metrics) 127\.0\.0\.1:(\d+)", log))
        assert set(ports) == {"http", "grpc", "metrics"}, f"{where}: {log}"
        for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/addmul/ready"):
            status, body = http_get(f"http://127.0.0.1:{ports['http']}{path}")
            assert status == 200, f"{where}: GET {path}: {status} {body}\n{log}"
        # The series the autoscaler's rule reads, as cocktail-serve names them.
        _, metrics = http_get(f"http://127.0.0.1:{ports['metrics']}/metrics")
        for series in adapter_series():
            assert re.search(rf'^{series}{{model="addmul",version="1"}} ', metrics, re.M), f"{where}: no {series}"
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, f"{where}: exit status {proc.returncode} after SIGTERM:\n{log}{rest}"


def test_kserve_runtime_takes_kserve_triton_flags():
    for obj in objects("ClusterServingRuntime"):
        args = obj["spec"]["containers"][0]["args"]
        missing = [f for f in KSERVE_TRITON_FLAGS if f not in args]
        assert not missing, f"{obj['metadata']['name']}: KServe's Triton flags missing: {missing}"


# ---- the pieces agree --------------------------------------------------------------------------

def adapter_rules():
    (cm,) = objects("ConfigMap")
    return yaml.safe_load(cm["data"]["config.yaml"])["rules"]


def adapter_series():
    """The metric names the adapter rules' queries read."""
    names = set()
    for rule in adapter_rules():
        names |= set(re.findall(r"\b(nv_[a-z_]+)\{", rule["seriesQuery"] + " " + rule["metricsQuery"]))
    assert "nv_inference_queue_duration_us" in names, names
    return sorted(names)


def test_hpa_scales_the_deployment_on_the_adapter_metric():
    (hpa,) = objects("HorizontalPodAutoscaler")
    (dep,) = objects("Deployment")
    ref = hpa["spec"]["scaleTargetRef"]
    assert (ref["kind"], ref["name"]) == ("Deployment", dep["metadata"]["name"])
    served = {r["name"]["as"] for r in adapter_rules()}
    used = {m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"}
    assert used and used <= served, f"HPA metrics {used}, the adapter serves {served}"


def flag(argv, name):
    values = [a.partition("=")[2] for a in argv if a.partition("=")[0] == name]
    return values[-1] if values else None


def test_probes_and_ports_name_what_the_server_serves():
    (dep,) = objects("Deployment")
    pod = dep["spec"]["template"]
    (c,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"http": int(flag(c["args"], "--http-port")), "grpc": int(flag(c["args"], "--grpc-port")),
                     "metrics": int(flag(c["args"], "--metrics-port"))}, ports
    assert c["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"]["port"] == "http", probe
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports["metrics"])
    (svc,) = objects("Service")
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"] == pod["metadata"]["labels"]
    assert {p["targetPort"] for p in svc["spec"]["ports"]} == set(ports)
    # SIGTERM drains for --exit-timeout-secs; Kubernetes must wait longer before it kills.
    assert pod["spec"]["terminationGracePeriodSeconds"] > int(flag(c["args"], "--exit-timeout-secs"))
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert {flag(c["args"], "--model-repository"), flag(c["args"], "--cache-dir")} <= mounts


def test_containerfile_promises():
    lines = containerfile()
    froms = [l for l in lines if l.startswith("FROM ")]
    assert len(froms) == 2 and all("${BASE}" in l for l in froms), froms
    assert any(l.startswith("RUN scripts/setup.sh --deps-only") for l in lines), "packages from scripts/setup.sh"
    (expose,) = [l for l in lines if l.startswith("EXPOSE ")]
    assert expose.split()[1:] == ["8000", "8001", "8002"]
    (user,) = [l for l in lines if l.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in ("0", "root"), user
    (health,) = [l for l in lines if l.startswith("HEALTHCHECK ")]
    assert "/v2/health/ready" in health
    assert not any(l.startswith("ENTRYPOINT") for l in lines), "no ENTRYPOINT: the command is the whole line, as Triton's"


def test_runtime_packages_names_installed_packages():
    """What the image's runtime stage installs: the Debian packages of the libraries the server links."""
    p = subprocess.run([os.path.join(DEPLOY, "runtime-packages.sh"), SERVE], capture_output=True, text=True)
    packages = p.stdout.split()
    assert packages, p.stderr
    installed = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\n"] + packages,
                               capture_output=True, text=True).stdout
    assert installed.count("install ok installed") == len(packages), installed
    # A build against libraries outside Debian (the CUDA toolkit in /usr/local, a pip PyTorch's
    # LibTorch) is refused, each named.
    outside = re.findall(r"^runtime-packages: (\S+) \(needed by", p.stderr, re.M)
    assert (p.returncode != 0) == bool(outside), p.stderr
    assert all(not lib.startswith(("/lib/", "/usr/lib/")) for lib in outside), p.stderr
    expected = ["libgrpc++1.51", "libprotobuf32", "libcpp-httplib0.11"]
    if not any("libtorch" in lib for lib in outside):
        expected.append("libtorch1.13")
    for needed in expected:
        assert needed in packages, packages


def test_runtime_packages_refuses_a_missing_library(tmp_path):
    p = subprocess.run([os.path.join(DEPLOY, "runtime-packages.sh"), str(tmp_path / "nope")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "usage" in p.stderr
