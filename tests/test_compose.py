"""The deployment files: compose.yaml against the Compose Specification and the stack's own
rules, the Kubernetes manifests under infra/, the Dockerfile and .dockerignore.

No container engine is needed: the files are parsed and checked as data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"
SCHEMA_FILE = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
INFRA = ROOT / "infra"
KUBERNETES = INFRA / "kubernetes"

WEB_PORTS = {"gateway": 8000, "consent": 8101, "record": 8102, "alerts": 8103, "audit": 8104}
WORKERS = ("consent", "record", "alerts", "audit")
WORKER_SERVICES = {f"{name}-worker": name for name in WORKERS}
INFRASTRUCTURE = ("postgres", "rabbitmq")
APP_SERVICES = (*WEB_PORTS, *WORKER_SERVICES)
EXPECTED_SERVICES = {*INFRASTRUCTURE, "migrate", *APP_SERVICES}
LONG_RUNNING = (*INFRASTRUCTURE, *APP_SERVICES)
# Settings every Relais container needs in Compose.
REQUIRED_ENVIRONMENT = (
    "DATABASE_URL",
    "AMQP_URL",
    "RELAIS_HOST",
    "RELAIS_ISSUER",
    "RELAIS_JWKS_URL",
    "CONSENT_URL",
    "RECORD_URL",
    "ALERTS_URL",
    "AUDIT_URL",
    "RELAIS_VAR_DIR",
    "RELAIS_LOG_FORMAT",
)


# -- helpers -------------------------------------------------------------------------------------
def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """`depends_on` as {service: condition}, whichever of the two syntaxes is used."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {name: "service_started" for name in raw}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def published_ports(service: dict[str, Any]) -> list[str]:
    """The host ports a service publishes, from the short or the long port syntax."""
    published = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            if port.get("published") is not None:
                published.append(str(port["published"]))
            continue
        parts = str(port).split("/")[0].split(":")
        # "container" publishes a random port; "host:container" and "ip:host:container" name it.
        published.append(parts[-2] if len(parts) >= 2 else "random")
    return published


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def as_list(command: Any) -> list[str]:
    return command.split() if isinstance(command, str) else list(command or [])


def kubernetes_documents() -> list[tuple[Path, dict[str, Any]]]:
    documents = []
    for path in sorted(KUBERNETES.glob("*.y*ml")):
        with path.open(encoding="utf-8") as handle:
            documents.extend((path, doc) for doc in yaml.safe_load_all(handle) if doc)
    return documents


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in kubernetes_documents() if doc.get("kind") == kind]


def main_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{workload['metadata']['name']} should run one container"
    return containers[0]


# -- compose.yaml ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict), "compose.yaml should hold a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def test_compose_file_follows_the_compose_specification(compose):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(compose), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in errors
    )


def test_the_schema_rejects_a_broken_compose_file(compose):
    """The validation above can fail: a wrong type is caught."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    broken = {"services": {"gateway": {**compose["services"]["gateway"], "ports": "8000:8000"}}}
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    assert list(validator_class(schema).iter_errors(broken))


def test_compose_file_has_no_obsolete_version_key(compose):
    assert "version" not in compose


def test_every_service_of_the_stack_is_defined(services):
    assert set(services) == EXPECTED_SERVICES


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_a_healthcheck_and_restart(services, name):
    service = services[name]
    healthcheck = service.get("healthcheck") or {}
    assert not healthcheck.get("disable"), f"{name}: healthcheck disabled"
    test = healthcheck.get("test")
    assert test, f"{name}: healthcheck has no test"
    if isinstance(test, list):
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: bad test {test}"
    assert service.get("restart") == "unless-stopped", f"{name}: restart policy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_infrastructure_and_the_migration(services, name):
    conditions = depends_on(services[name])
    assert conditions.get("postgres") == "service_healthy"
    assert conditions.get("rabbitmq") == "service_healthy"
    assert conditions.get("migrate") == "service_completed_successfully"


@pytest.mark.parametrize("name", [name for name in WEB_PORTS if name != "gateway"])
def test_services_that_verify_tokens_wait_for_the_gateway(services, name):
    assert depends_on(services[name]).get("gateway") in ("service_started", "service_healthy")


def test_migration_is_one_shot_after_postgres(services):
    migrate = services["migrate"]
    assert as_list(migrate.get("command")) == ["migrate"]
    assert depends_on(migrate).get("postgres") == "service_healthy"
    assert migrate.get("restart", "no") == "no"
    assert not migrate.get("ports")


@pytest.mark.parametrize("name,port", WEB_PORTS.items())
def test_web_services_serve_and_probe_readiness_on_their_port(services, name, port):
    service = services[name]
    assert as_list(service.get("command")) == ["serve", name]
    assert service["healthcheck"]["test"] == [
        "CMD",
        "relais",
        "probe",
        f"http://127.0.0.1:{port}/readyz",
    ]


@pytest.mark.parametrize("name,worker_of", WORKER_SERVICES.items())
def test_workers_run_and_probe_their_heartbeat(services, name, worker_of):
    service = services[name]
    assert as_list(service.get("command")) == ["worker", worker_of]
    assert service["healthcheck"]["test"] == ["CMD", "relais", "probe-worker", worker_of]


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_healthchecks_start_quickly(services, name):
    healthcheck = services[name]["healthcheck"]
    assert "start_period" in healthcheck, f"{name}: no start_period"
    assert "start_interval" in healthcheck, f"{name}: no start_interval"
    assert "interval" in healthcheck, f"{name}: no interval"


@pytest.mark.parametrize("name", ["migrate", *APP_SERVICES])
def test_relais_containers_share_one_image_built_here(services, name):
    service = services[name]
    build = service.get("build")
    context = build if isinstance(build, str) else (build or {}).get("context")
    assert context == ".", f"{name}: not built from the repository's Dockerfile"
    assert service.get("image") == services["gateway"].get("image")
    env = environment(service)
    missing = [key for key in REQUIRED_ENVIRONMENT if key not in env]
    assert not missing, f"{name}: missing {missing}"
    assert env["RELAIS_HOST"] == "0.0.0.0"


def test_only_the_gateway_publishes_a_port_and_it_is_8000(services):
    publishing = {name: published_ports(service) for name, service in services.items()}
    assert {name for name, ports in publishing.items() if ports} == {"gateway"}
    assert publishing["gateway"] == ["8000"]
    assert "8000:8000" in [str(port) for port in services["gateway"]["ports"]]


def test_the_gateway_reaches_each_service_by_name(services):
    env = environment(services["gateway"])
    for name, port in WEB_PORTS.items():
        if name != "gateway":
            assert env[f"{name.upper()}_URL"] == f"http://{name}:{port}"
    assert env["RELAIS_JWKS_URL"] == "http://gateway:8000/.well-known/jwks.json"


def test_rabbitmq_uses_a_management_image(services):
    image = services["rabbitmq"]["image"]
    assert image.startswith("rabbitmq:") and "management" in image


def test_postgres_is_version_15_checked_with_pg_isready(services):
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in as_list(postgres["healthcheck"]["test"])
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD"} <= set(environment(postgres))


@pytest.mark.parametrize(
    "name,mount",
    [
        ("postgres", "/var/lib/postgresql/data"),
        ("rabbitmq", "/var/lib/rabbitmq"),
        ("gateway", "/var/lib/relais"),
        # Keys must outlive a container, and a service and its worker must hold the same ones.
        ("consent", "/var/lib/relais/keys"),
        ("consent-worker", "/var/lib/relais/keys"),
        ("record", "/var/lib/relais/keys"),
        ("record-worker", "/var/lib/relais/keys"),
        ("audit", "/var/lib/relais/audit-keys"),
        ("audit-worker", "/var/lib/relais/audit-keys"),
    ],
)
def test_stateful_services_keep_their_data_in_named_volumes(compose, services, name, mount):
    named = set(compose.get("volumes") or {})
    volumes = services[name].get("volumes") or []
    targets = {}
    for volume in volumes:
        if isinstance(volume, dict):
            targets[volume.get("target")] = volume.get("source")
        else:
            source, target = str(volume).split(":")[:2]
            targets[target] = source
    assert mount in targets, f"{name}: nothing mounted on {mount}"
    assert targets[mount] in named, f"{name}: {targets[mount]} is not a named volume"


# -- Dockerfile and .dockerignore --------------------------------------------------------------------
def test_dockerfile_builds_a_non_root_image_with_the_relais_entrypoint():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert any("python:3.11-slim" in line for line in instructions)
    assert "pip install -r requirements.lock" in text
    assert re.search(r"pip install --no-deps \.", text)
    users = [line.split(None, 1)[1] for line in instructions if line.upper().startswith("USER ")]
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in ("root", "0"), "the image runs as root"
    entrypoints = [line for line in instructions if line.upper().startswith("ENTRYPOINT")]
    assert entrypoints and json.loads(entrypoints[-1].split(None, 1)[1]) == ["relais"]
    assert not re.search(r"(?im)^\s*(ENV|ARG)\s+\S*(PASSWORD|SECRET|MASTER_KEY)", text)


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    patterns = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".git", ".venv", "var", "tests"):
        assert pattern in patterns, f".dockerignore should exclude {pattern}"
    # The build needs these: excluding them would break `pip install .`.
    for needed in (
        "pyproject.toml",
        "README.md",
        "requirements.lock",
        "relais",
        "shared",
        "services",
    ):
        assert needed not in patterns


# -- infra/ ------------------------------------------------------------------------------------------
INFRA_YAML = sorted([*INFRA.rglob("*.yaml"), *INFRA.rglob("*.yml")])


def test_infra_holds_yaml_files():
    assert INFRA_YAML, "no YAML file under infra/"
    assert (INFRA / "README.md").is_file()


@pytest.mark.parametrize("path", INFRA_YAML, ids=lambda path: str(path.relative_to(INFRA)))
def test_every_infra_yaml_file_parses(path):
    with path.open(encoding="utf-8") as handle:
        documents = [doc for doc in yaml.safe_load_all(handle) if doc is not None]
    assert documents, f"{path} is empty"
    for document in documents:
        assert isinstance(document, dict), f"{path}: a document is not a mapping"
        if path.parent == KUBERNETES:
            assert document.get("apiVersion") and document.get("kind"), (
                f"{path}: no apiVersion/kind"
            )


def test_kustomization_lists_every_manifest_but_the_secret_template():
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization["resources"])
    for resource in listed:
        assert (KUBERNETES / resource).is_file(), f"{resource} is listed but missing"
    present = {path.name for path in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present - {"secret.template.yaml"}
    assert "rabbitmq-cluster.yaml" in listed


def web_deployments() -> dict[str, dict[str, Any]]:
    found = {}
    for deployment in of_kind("Deployment"):
        args = as_list(main_container(deployment).get("args"))
        if args[:1] == ["serve"]:
            found[args[1]] = deployment
    return found


def test_every_web_service_and_worker_has_a_deployment():
    assert set(web_deployments()) == set(WEB_PORTS)
    workers = set()
    for deployment in of_kind("Deployment"):
        args = as_list(main_container(deployment).get("args"))
        if args[:1] == ["worker"]:
            workers.add(args[1])
    assert workers == set(WORKERS)


@pytest.mark.parametrize("name", WEB_PORTS)
def test_web_deployments_probe_healthz_and_readyz(name):
    deployment = web_deployments().get(name)
    assert deployment is not None, f"no Deployment serves {name}"
    container = main_container(deployment)
    ports = {port.get("name"): port["containerPort"] for port in container.get("ports", [])}
    assert WEB_PORTS[name] in ports.values()
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        http = (container.get(probe) or {}).get("httpGet")
        assert http, f"{name}: no HTTP {probe}"
        assert http["path"] == path, f"{name}: {probe} on {http['path']}"
        port = ports.get(http["port"], http["port"])
        assert port == WEB_PORTS[name], f"{name}: {probe} on port {port}"


@pytest.mark.parametrize("name", WORKERS)
def test_worker_deployments_probe_their_heartbeat(name):
    for deployment in of_kind("Deployment"):
        container = main_container(deployment)
        if as_list(container.get("args")) == ["worker", name]:
            assert container["livenessProbe"]["exec"]["command"] == ["relais", "probe-worker", name]
            return
    pytest.fail(f"no Deployment runs the {name} worker")


def test_a_job_runs_the_migrations():
    jobs = of_kind("Job")
    assert [as_list(main_container(job).get("args")) for job in jobs] == [["migrate"]]


def test_kubernetes_pods_run_as_non_root():
    for workload in [*of_kind("Deployment"), *of_kind("Job")]:
        pod = workload["spec"]["template"]["spec"]
        assert pod.get("securityContext", {}).get("runAsNonRoot") is True, workload["metadata"][
            "name"
        ]
        container = main_container(workload)
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        refs = container.get("envFrom", [])
        assert {"configMapRef": {"name": "relais-config"}} in refs
        assert {"secretRef": {"name": "relais-secrets"}} in refs


def test_only_the_gateway_is_exposed():
    ingresses = of_kind("Ingress")
    assert len(ingresses) == 1
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingresses[0]["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}
    for service in of_kind("Service"):
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", service["metadata"]["name"]


def test_network_policies_deny_by_default_and_admit_the_gateway_from_the_ingress():
    policies = of_kind("NetworkPolicy")
    default_deny = [
        policy
        for policy in policies
        if "Ingress" in policy["spec"].get("policyTypes", []) and not policy["spec"].get("ingress")
    ]
    assert default_deny, "no default-deny ingress policy"
    gateway = [
        policy
        for policy in policies
        if policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component")
        == "gateway"
    ]
    assert len(gateway) == 1
    sources = [peer for rule in gateway[0]["spec"]["ingress"] for peer in rule["from"]]
    assert any("namespaceSelector" in peer for peer in sources)
    # Only the gateway admits traffic from outside the namespace.
    for policy in policies:
        if policy in gateway:
            continue
        for rule in policy["spec"].get("ingress") or []:
            assert all(
                "namespaceSelector" not in peer and "ipBlock" not in peer
                for peer in rule.get("from", [])
            )


def test_rabbitmq_cluster_has_three_replicas():
    clusters = of_kind("RabbitmqCluster")
    assert len(clusters) == 1
    assert clusters[0]["apiVersion"] == "rabbitmq.com/v1beta1"
    assert clusters[0]["spec"]["replicas"] == 3


def test_secret_template_holds_placeholders_only():
    with (KUBERNETES / "secret.template.yaml").open(encoding="utf-8") as handle:
        (secret,) = [doc for doc in yaml.safe_load_all(handle) if doc]
    assert secret["kind"] == "Secret"
    values = secret.get("stringData", {})
    assert {"DATABASE_URL", "AMQP_URL"} <= set(values)
    for key, value in values.items():
        assert "REPLACE_WITH" in value, f"{key} looks like a real secret"
