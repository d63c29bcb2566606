//! What the server's integration tests share: plain HTTP requests as a browser sends them,
//! users on a sandbox host, and `tandem serve` processes.

// Each test binary uses its own part of these.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use sandbox::SandboxCluster;

pub struct Response {
    pub body: String,
    pub status: u16,
    pub cookies: Vec<String>,
}

/// One HTTP/1.1 request on a fresh connection, as a same-origin browser form post would be.
pub fn request(port: u16, method: &str, path: &str, cookie: &str, body: &str) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let cookies = text
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie").then(|| {
                value
                    .trim()
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
        })
        .collect();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Response {
        body,
        status,
        cookies,
    }
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
}

/// A browser navigation (GET, Accept: text/html).
pub fn request_page(port: u16, path: &str, cookie: &str) -> Page {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    Page {
        status: text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        location: text.lines().take_while(|l| !l.is_empty()).find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_string())
        }),
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn client(cluster: &SandboxCluster) -> Client {
    let config = Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    Client::try_from(config).unwrap()
}

pub fn iam(kind: &str, plural: &str) -> kube::api::ApiResource {
    kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("iam.kubesphere.io", "v1alpha2", kind),
        plural,
    )
}

pub async fn create(client: &Client, kind: &str, plural: &str, object: serde_json::Value) {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &iam(kind, plural));
    let object: DynamicObject = serde_json::from_value(object).unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
}

/// A user with `password`, bound to `role`, active.
pub async fn user(client: &Client, name: &str, password: &str, role: &str) {
    let hash = bcrypt::hash(password, 4).unwrap();
    create(
        client,
        "User",
        "users",
        serde_json::json!({
            "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "User",
            "metadata": {"name": name},
            "spec": {"email": format!("{name}@example.com"), "password": hash},
        }),
    )
    .await;
    let users: Api<DynamicObject> = Api::all_with(client.clone(), &iam("User", "users"));
    users
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"status": {"state": "Active"}})),
        )
        .await
        .unwrap();
    if !role.is_empty() {
        create(client, "GlobalRoleBinding", "globalrolebindings", serde_json::json!({
            "apiVersion": "iam.kubesphere.io/v1alpha2", "kind": "GlobalRoleBinding",
            "metadata": {"name": format!("{name}-{role}"), "labels": {"iam.kubesphere.io/user-ref": name}},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}],
            "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": role},
        }))
        .await;
    }
}

pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn serve(config: &std::path::Path, port: u16) -> Server {
    serve_as(config, port, "tandem", Stdio::null())
}

/// `tandem serve` as the pod `hostname` (its replica name starts so), its log to `log`.
pub fn serve_as(config: &std::path::Path, port: u16, hostname: &str, log: Stdio) -> Server {
    serve_with(config, port, hostname, log, &[])
}

/// [`serve_as`] with more arguments for `tandem serve`.
pub fn serve_with(
    config: &std::path::Path,
    port: u16,
    hostname: &str,
    log: Stdio,
    args: &[&str],
) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["serve", "--config"])
        .arg(config)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .env("RUST_LOG", "warn,fleet=info,tandem=info")
        .env("HOSTNAME", hostname)
        // What cargo-leptos bakes into the release binary; a test build has it from here.
        .env("LEPTOS_OUTPUT_NAME", "tandem")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("tandem binary runs");
    let server = Server(child);
    // A debug build on a busy CI machine can take a while to answer its first probe.
    for _ in 0..600 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok()
            && request(port, "GET", "/readyz", "", "").status == 200
        {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("tandem serve did not become ready");
}

/// Logs in and returns the session cookies, once the server's caches know the user.
pub fn log_in(port: u16, name: &str, password: &str) -> String {
    let login = request(
        port,
        "POST",
        "/api/login",
        "",
        &format!("host=host&username={name}&password={password}"),
    );
    assert_eq!(login.status, 200, "{name} logs in");
    let cookie = login.cookies.join("; ");
    for _ in 0..300 {
        if request(port, "POST", "/api/host_statuses", &cookie, "").status != 401 {
            return cookie;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{name}'s session never accepted");
}

/// `value` as a form field (application/x-www-form-urlencoded).
pub fn form_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A configuration naming `host` as the console's one host "host", probed every second; the
/// directory holds it (and the kubeconfig) and must live as long as the servers using it.
pub fn one_host_config(host: &SandboxCluster) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = host.write_kubeconfig(dir.path()).unwrap();
    let config = dir.path().join("tandem.yaml");
    std::fs::write(
        &config,
        format!(
            "probeIntervalSeconds: 1\nhosts:\n  - name: host\n    kubeconfig: {}\n",
            kubeconfig.display()
        ),
    )
    .unwrap();
    (dir, config)
}

/// A sandbox cluster with KubeSphere installed in `role`; a host gets `admin` with
/// `admin_password`.
pub async fn kubesphere(
    name: &str,
    role: sandbox::ClusterRole,
    jwt_secret: &str,
    admin_password: &str,
) -> SandboxCluster {
    let cluster = SandboxCluster::start(name).await.unwrap();
    cluster
        .install_kubesphere(&sandbox::KubeSphereInstall {
            role,
            jwt_secret: jwt_secret.into(),
            admin_password: (role == sandbox::ClusterRole::Host).then(|| admin_password.into()),
        })
        .unwrap();
    cluster
}

/// Runs `tandem sync <verb...> --config ... --json` off the async runtime.
pub async fn tandem_sync(
    verb: &str,
    dir: &std::path::Path,
) -> (std::process::Output, serde_json::Value) {
    let config = dir.join("tandem.yaml");
    let words: Vec<String> = verb.split(' ').map(String::from).collect();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("sync")
            .args(&words)
            .arg("--config")
            .arg(config)
            .arg("--json")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, document)
}
