//! The `sgguard` binary as the hub Lambda, under a stand-in for the Lambda Runtime API (the
//! HTTP interface `provided.al2023` gives a custom runtime: the next invocation, its response),
//! against the AWS API emulator: what its init does with the baseline it is given.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::emulator::{HUB_REGION, Org, live_rules, open_rules, tcp};
use crate::hub::authorize_event;

/// The Runtime API on a loopback port: each `GET …/invocation/next` takes the next event
/// (once they are used up it never answers, as Lambda does between invocations); every request
/// is logged as (method, path, body).
struct RuntimeApi {
    address: String,
    log: Arc<Mutex<Vec<(String, String, String)>>>,
}

impl RuntimeApi {
    fn serve(events: Vec<Value>) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let events = Arc::new(Mutex::new(events.into_iter()));
        let shared = Arc::clone(&log);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, events) = (Arc::clone(&shared), Arc::clone(&events));
                std::thread::spawn(move || answer(stream, &log, &events));
            }
        });
        RuntimeApi { address, log }
    }

    fn requests(&self) -> Vec<(String, String, String)> {
        self.log.lock().unwrap().clone()
    }
}

/// Answers the requests of one connection (the runtime keeps it alive between requests).
fn answer(
    stream: TcpStream,
    log: &Mutex<Vec<(String, String, String)>>,
    events: &Mutex<std::vec::IntoIter<Value>>,
) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or_default().to_owned(),
            parts.next().unwrap_or_default().to_owned(),
        );
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        log.lock().unwrap().push((
            method.clone(),
            path.clone(),
            String::from_utf8_lossy(&body).into_owned(),
        ));
        let response = if path.ends_with("/invocation/next") {
            let Some(event) = events.lock().unwrap().next() else {
                return; // no more invocations: the runtime waits until it is stopped
            };
            let body = event.to_string();
            let deadline =
                SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Lambda-Runtime-Aws-Request-Id: invocation-1\r\n\
                 Lambda-Runtime-Deadline-Ms: {}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:{HUB_REGION}:123456789012:function:sgguard\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000001\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                deadline.as_millis(),
                body.len()
            )
        } else {
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                .to_owned()
        };
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// The binary as Lambda starts it (`bootstrap` of `provided.al2023`), as the hub in the
/// emulated organization, with the baseline file `policy`.
fn start_lambda(org: &Org, runtime: &RuntimeApi, policy: &std::path::Path) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("sgguard"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &runtime.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "sgguard")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_ENDPOINT_URL", &org.emulator.proxy)
        .env("AWS_ACCESS_KEY_ID", "AKIAHUBTESTING000001")
        .env("AWS_SECRET_ACCESS_KEY", "hub-secret")
        .env("AWS_REGION", HUB_REGION)
        .env("SGGUARD_TOPIC_ARN", &org.topic_arn)
        .env("SGGUARD_MODE", "enforce")
        .env("SGGUARD_POLICY", policy)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (at most `seconds`, a bound against a hang, not a measure) until `done` holds.
fn wait_until(seconds: u64, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < until {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

#[test]
fn a_baseline_that_does_not_load_fails_the_lambda_s_init_and_nothing_is_revoked() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let org = runtime.block_on(Org::new());
    let member = org.members[0].clone();
    let ec2 = runtime.block_on(org.member_ec2(&member, HUB_REGION));
    let (good_group, good_rules) =
        runtime.block_on(open_rules(&ec2, "init-good", vec![tcp(22, "0.0.0.0/0")]));
    let (bad_group, bad_rules) =
        runtime.block_on(open_rules(&ec2, "init-bad", vec![tcp(22, "0.0.0.0/0")]));
    let dir = tempfile::tempdir().unwrap();

    // With a baseline that loads, the same start takes the invocation and revokes.
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, sgguard::policy::DEFAULT_BASELINE_YAML).unwrap();
    let api = RuntimeApi::serve(vec![authorize_event(
        &member,
        HUB_REGION,
        "olga",
        &good_group,
        &good_rules,
    )]);
    let mut lambda = start_lambda(&org, &api, &good);
    let answered = wait_until(120, || {
        api.requests()
            .iter()
            .any(|(_, path, _)| path.ends_with("/invocation-1/response"))
    });
    lambda.kill().unwrap();
    let output = lambda.wait_with_output().unwrap();
    assert!(
        answered,
        "no answer: {:?} {}",
        api.requests(),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(runtime.block_on(live_rules(&ec2, &good_group)).is_empty());

    // A baseline with a bad value: the init fails, the invocation is never taken, no AWS call.
    let bad = dir.path().join("bad.yaml");
    let yaml = sgguard::policy::DEFAULT_BASELINE_YAML.replacen(
        "    action: revoke",
        "    action: destroy",
        1,
    );
    std::fs::write(&bad, yaml).unwrap();
    org.emulator.reset();
    let api = RuntimeApi::serve(vec![authorize_event(
        &member, HUB_REGION, "olga", &bad_group, &bad_rules,
    )]);
    let mut lambda = start_lambda(&org, &api, &bad);
    let exited = wait_until(60, || lambda.try_wait().unwrap().is_some());
    if !exited {
        lambda.kill().unwrap();
    }
    let output = lambda.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(exited, "the init did not fail: {stderr}");
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&bad.display().to_string()) && stderr.contains("action"),
        "the file and the field are named: {stderr}"
    );
    let taken: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|(_, path, _)| path.contains("/invocation/"))
        .collect();
    assert!(taken.is_empty(), "no invocation taken: {taken:?}");
    assert_eq!(
        org.emulator.control("counts", None)["requests"],
        json!([]),
        "no AWS call"
    );
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 0);
    assert_eq!(runtime.block_on(live_rules(&ec2, &bad_group)).len(), 1);
}
