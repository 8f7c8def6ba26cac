//! The Helm chart (deploy/helm/solex): rendered by `helm template` with several
//! value sets, validated strictly against the Kubernetes schemas
//! (kubernetes-validate), and checked for what operators rely on: an indexer
//! writer with a hot standby, probes on the services' health endpoints,
//! non-root read-only containers, secrets for keys and URLs, an HPA on the API,
//! disruption budgets, dashboards and alerts over metrics the services really
//! export, and container arguments the binaries really accept.
//! Tools: `scripts/setup.sh deploy` (paths from scripts/env.sh).
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use solex_tests::artifacts::workspace_root as root;
use solex_tests::services::env_sh;

fn tool(path: String, what: &str) -> String {
    assert!(Path::new(&path).exists(), "{what} not found at {path}: run scripts/setup.sh deploy");
    path
}

/// `helm template` with `args` (value flags), then strict schema validation; the documents as JSON.
fn render(args: &[&str]) -> Vec<Value> {
    let helm = tool(env_sh("HELM"), "helm");
    let venv = env_sh("DEPLOY_VENV");
    let mut cmd = Command::new(&helm);
    cmd.args(["template", "test", "deploy/helm/solex"]).args(args).current_dir(root());
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "helm template {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let rendered = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(rendered.path(), &out.stdout).unwrap();
    let file = rendered.path();
    let validate = tool(format!("{venv}/bin/kubernetes-validate"), "kubernetes-validate");
    let v = Command::new(validate).args(["--strict", "--quiet"]).arg(file).output().unwrap();
    assert!(
        v.status.success(),
        "the rendered chart does not validate: {}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    let json = Command::new(format!("{venv}/bin/python"))
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))",
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    serde_json::from_slice(&json.stdout).unwrap()
}

fn find<'a>(docs: &'a [Value], kind: &str, suffix: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"].as_str().is_some_and(|n| n.ends_with(suffix)))
        .unwrap_or_else(|| panic!("no {kind} *{suffix}"))
}

/// What the chart cannot render without: the crank's key and what it settles.
const REQUIRED: [&str; 4] = [
    "--set-string",
    "secrets.crankKeypairJson=[1\\,2\\,3]",
    "--set-string",
    "crank.authorities[0]=9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
];

#[test]
fn the_chart_renders_to_valid_manifests_with_the_operating_rules() {
    let docs = render(&REQUIRED);
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    for kind in ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Secret", "ConfigMap"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }

    // A writer and a hot standby (the writer lock decides which one ingests);
    // updates never take both down.
    let indexer = find(&docs, "Deployment", "-indexer");
    assert_eq!(indexer["spec"]["replicas"], 2);
    assert_eq!(indexer["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);

    for name in ["-indexer", "-api", "-crank"] {
        let d = find(&docs, "Deployment", name);
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        let c = &pod["containers"][0];
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/health", "{name}");
        assert!(!c["livenessProbe"].is_null(), "{name} has a liveness probe");
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true, "{name}");
        assert!(!c["resources"]["requests"].is_null(), "{name} requests resources");
        assert_eq!(d["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"], "true", "{name}");
        // Every PDB and Service selects pods that exist.
        let labels = &d["spec"]["template"]["metadata"]["labels"];
        let selects = |sel: &Value| sel.as_object().unwrap().iter().all(|(k, v)| labels[k] == *v);
        assert!(selects(&find(&docs, "PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"]), "{name} PDB");
        if name != "-crank" {
            assert!(selects(&find(&docs, "Service", name)["spec"]["selector"]), "{name} Service");
        }
    }

    // Database and Redis URLs from a Secret, never inline; the crank's key mounted from one.
    let api = &find(&docs, "Deployment", "-api")["spec"]["template"]["spec"]["containers"][0];
    for var in api["env"].as_array().unwrap() {
        if var["name"] == "DATABASE_URL" || var["name"] == "REDIS_URL" {
            let secret = var["valueFrom"]["secretKeyRef"]["name"].as_str().unwrap();
            find(&docs, "Secret", secret.trim_start_matches("test-solex"));
        }
    }
    let crank = &find(&docs, "Deployment", "-crank")["spec"]["template"]["spec"];
    let keypair_secret = crank["volumes"][0]["secret"]["secretName"].as_str().unwrap();
    assert_eq!(find(&docs, "Secret", "-crank-keypair")["metadata"]["name"], keypair_secret);

    // The API scales on CPU and request rate.
    let hpa = find(&docs, "HorizontalPodAutoscaler", "-api");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], find(&docs, "Deployment", "-api")["metadata"]["name"]);
    let metrics: Vec<&str> =
        hpa["spec"]["metrics"].as_array().unwrap().iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(metrics, ["Resource", "Pods"]);

    // Dashboards and alert rules are shipped, over metrics the services export.
    let dashboards = find(&docs, "ConfigMap", "-dashboards");
    assert_eq!(dashboards["metadata"]["labels"]["grafana_dashboard"], "1");
    let dashboard: Value = serde_json::from_str(dashboards["data"]["solex-overview.json"].as_str().unwrap()).unwrap();
    let rules = find(&docs, "ConfigMap", "-alert-rules")["data"]["solex-rules.yaml"].as_str().unwrap().to_string();
    let sources = ["crank/src/metrics.rs", "indexer/src/metrics.rs"]
        .map(|p| std::fs::read_to_string(root().join(p)).unwrap())
        .join("\n");
    let mut used = 0;
    for text in [dashboard.to_string(), rules] {
        for name in metric_names(&text) {
            let base =
                ["_bucket", "_sum", "_count"].iter().fold(name.clone(), |n, s| n.trim_end_matches(s).to_string());
            let local = base.trim_start_matches("solex_indexer_").trim_start_matches("solex_crank_");
            assert!(
                sources.contains(&base) || sources.contains(&format!("\"{local}\"")),
                "{name} is not exported by any service"
            );
            used += 1;
        }
    }
    assert!(used > 15, "dashboards and alerts use {used} metrics");
}

/// Every `solex_crank_*` / `solex_indexer_*` metric name in `text`.
fn metric_names(text: &str) -> Vec<String> {
    let mut out = vec![];
    for prefix in ["solex_crank_", "solex_indexer_"] {
        for (at, _) in text.match_indices(prefix) {
            let name: String = text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn the_chart_honours_its_values() {
    let docs = render(&[
        "--set",
        "secrets.existingSecret=prod-urls,secrets.crankKeypairSecret=prod-crank-key",
        "--set",
        "api.autoscaling.enabled=false,api.replicas=3",
        "--set",
        "crank.markets[0]=9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
    ]);
    // No Secret is created: the named ones are used.
    assert!(docs.iter().all(|d| d["kind"] != "Secret"), "existing secrets are referenced, not created");
    assert!(docs.iter().all(|d| d["kind"] != "HorizontalPodAutoscaler"));
    let api = find(&docs, "Deployment", "-api");
    assert_eq!(api["spec"]["replicas"], 3);
    assert_eq!(
        api["spec"]["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        "prod-urls"
    );
    let crank = &find(&docs, "Deployment", "-crank")["spec"]["template"]["spec"];
    assert_eq!(crank["volumes"][0]["secret"]["secretName"], "prod-crank-key");
    let args: Vec<&str> =
        crank["containers"][0]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(args.contains(&"--market=9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"), "{args:?}");
}

#[test]
fn the_chart_refuses_a_crank_that_names_no_market_or_authority() {
    let helm = tool(env_sh("HELM"), "helm");
    let out = Command::new(helm)
        .args(["template", "test", "deploy/helm/solex", "--set-string", "secrets.crankKeypairJson=[1\\,2\\,3]"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("crank.authorities"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_chart_refuses_a_crank_without_a_key() {
    let helm = tool(env_sh("HELM"), "helm");
    let out = Command::new(helm)
        .args([
            "template",
            "test",
            "deploy/helm/solex",
            "--set-string",
            "crank.authorities[0]=11111111111111111111111111111111",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("crankKeypairJson"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The flags the chart and the Dockerfile pass are ones the binaries accept.
#[test]
fn container_arguments_are_real_flags() {
    let bin = solex_tests::services::sibling;
    let help = |name: &str, args: &[&str]| {
        let out = Command::new(bin(name))
            .args(args)
            .arg("--help")
            .output()
            .unwrap_or_else(|e| panic!("{name} ({e}): cargo test --workspace builds it"));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let docs = render(&REQUIRED);
    let crank_help = help("solex-crank", &[]);
    let crank = &find(&docs, "Deployment", "-crank")["spec"]["template"]["spec"]["containers"][0];
    for arg in crank["args"].as_array().unwrap() {
        let flag = arg.as_str().unwrap().split('=').next().unwrap();
        assert!(crank_help.contains(flag), "solex-crank has no {flag}");
    }
    let dockerfile = std::fs::read_to_string(root().join("deploy/docker/Dockerfile")).unwrap();
    assert!(crank_help.contains("--metrics-addr") && dockerfile.contains("\"solex-crank\", \"--metrics-addr\""));
    for (sub, flags) in [("run", &["--api-addr", "--poll-ms", "--ws-url"][..]), ("serve", &["--api-addr"][..])] {
        let text = help("solex-indexer", &[sub]);
        for f in flags {
            assert!(text.contains(f), "solex-indexer {sub} has no {f}");
        }
        assert!(dockerfile.contains(&format!("\"solex-indexer\", \"{sub}\", \"--api-addr\"")), "Dockerfile runs {sub}");
    }
    let indexer = &find(&docs, "Deployment", "-indexer")["spec"]["template"]["spec"]["containers"][0];
    let run_help = help("solex-indexer", &["run"]);
    for arg in indexer["args"].as_array().unwrap() {
        let flag = arg.as_str().unwrap().split('=').next().unwrap();
        assert!(run_help.contains(flag), "solex-indexer run has no {flag}");
    }
}
